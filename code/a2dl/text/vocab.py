"""A vocabulary built from the training split only, and the encoding of token lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
# The markers of the pre-training's cut-out spans: the i-th span of a review is <mask_i> in
# both the encoder's input and the decoder's target, so that the decoder can find, by
# attention, where in the review the span it is writing was cut (T5's sentinels).
SENTINELS = tuple(f"<mask_{i}>" for i in range(32))
# The first ids of every vocabulary: padding, unknown words, and the pre-training's markers.
SPECIALS = (PAD, UNK, BOS, EOS, *SENTINELS)


@dataclass(frozen=True)
class Vocabulary:
    """The :data:`SPECIALS` first (``<pad>`` is 0), then tokens by falling training frequency."""

    tokens: tuple[str, ...]

    @classmethod
    def build(
        cls, documents: Iterable[list[str]], *, min_freq: int = 2, max_size: int = 20_000
    ) -> Vocabulary:
        counts = Counter(token for document in documents for token in document)
        frequent = [
            t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_freq
        ]
        return cls((*SPECIALS, *frequent[: max(0, max_size - len(SPECIALS))]))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {token: i for i, token in enumerate(self.tokens)})

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    @property
    def bos_id(self) -> int:
        return 2

    @property
    def eos_id(self) -> int:
        return 3

    @property
    def sentinel_ids(self) -> tuple[int, ...]:
        return tuple(range(4, 4 + len(SENTINELS)))

    def encode(self, tokens: list[str], max_len: int) -> list[int]:
        """Ids of ``tokens``, unknown ones as ``<unk>``, never empty, at most ``max_len``.

        Long reviews keep their first and last halves: openings set the topic, and reviewers
        often state their verdict at the end. An empty review encodes as one ``<unk>`` so
        that attention always has a key to attend to.
        """
        ids = [self._index.get(token, self.unk_id) for token in tokens] or [self.unk_id]
        if len(ids) > max_len:
            head = max_len // 2
            ids = ids[:head] + ids[len(ids) - (max_len - head) :]
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids if i != self.pad_id]
