"""The phrase books as Markdown, for features/README.md (``python -m api.spec.phrasebook``).

The README's phrase tables are generated from the same Phrase entries that register the steps,
and test_phrasebook checks that the README still carries every example: the documentation
cannot promise a sentence the library does not understand.
"""

from __future__ import annotations

from . import phrases_en, phrases_zh_hans, phrases_zh_hant, vocab
from .steps import Phrase

BOOKS: dict[str, tuple[str, list[Phrase]]] = {
    "en": ("English", phrases_en.PHRASES),
    "zh-CN": ("简体中文（内地用语）", phrases_zh_hans.PHRASES),
    "zh-TW": ("繁體中文（香港用語）", phrases_zh_hant.PHRASES),
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def phrase_tables() -> str:
    lines: list[str] = []
    for language, (title, phrases) in BOOKS.items():
        lines += [f"### {title} — `# language: {language}`" if language != "en" else f"### {title}", "",
                  "| Sentence | Example |", "|---|---|"]
        for phrase in phrases:
            example = f"`{phrase.example}`"
            if phrase.table:
                example += "<br>" + "<br>".join(f"`{row}`" for row in phrase.table.splitlines())
            lines.append(f"| {_cell(phrase.template)} | {_cell(example)} |")
        lines.append("")
    return "\n".join(lines)


def vocabulary_tables() -> str:
    lines = ["| Value | Contract id | Words accepted (any language) |", "|---|---|---|"]
    for vocabulary in (vocab.PARTY_KIND, vocab.PURPOSE, vocab.MODE, vocab.SENSITIVE, vocab.CLASSIFICATION,
                       vocab.TAG, vocab.MECHANISM, vocab.LEVEL, vocab.OUTCOME, vocab.EXEMPTION, vocab.APPROVAL):
        for value, words in vocabulary.words().items():
            shown = ", ".join(w.replace("_", " ") for w in words if w != value)
            lines.append(f"| {vocabulary.what} | `{value}` | {_cell(shown)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(phrase_tables())
    print(vocabulary_tables())
