-- Each chapter starts on a new page, and the page break comes before the chapter's heading
-- rather than inside it. orange-book breaks the page inside its heading show rule, so the
-- heading's own location (what the contents and the running heads read) stayed on the page
-- before: the contents gave every chapter the previous page's number, and the chapter's last
-- running head landed on the next chapter's opening page. Before the break, the previous
-- chapter's pending figures and tables are placed, so a float never leaves its chapter.
-- A flush counts as content to a weak page break, so none is emitted where the page may be
-- empty: before the first heading (nothing floats yet; it would follow the contents), and
-- nothing at all before Quarto's "Appendices" divider, a heading that the book hides
-- (_format/typst-show.typ) and that the first appendix follows at once.
if not FORMAT:match("typst") then
  return {}
end

local chapters_seen = 0

function Header(el)
  if el.level ~= 1 or el.identifier == "appendices" then
    return nil
  end
  chapters_seen = chapters_seen + 1
  local flush = chapters_seen > 1 and "#place.flush()\n" or ""
  return { pandoc.RawBlock("typst", flush .. "#pagebreak(weak: true)"), el }
end
