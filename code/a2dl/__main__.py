from a2dl.cli import main

raise SystemExit(main())
