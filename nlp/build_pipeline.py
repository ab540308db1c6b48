"""Build the spaCy pipeline the assistant uses, from the pattern files in this repo.

A blank English pipeline plus an entity ruler: degree classes, qualifications,
subjects, grades, counts and programme names, each pattern carrying the canonical
value as its `id`. Subject names listed in `careers/entry_rules.yml` and the programmes'
short names in `careers/vocabulary.py` are added automatically, so a subject added there
is recognised without touching this folder; a pattern naming a programme, degree class or
qualification the domain does not know stops the build.
No model is downloaded.

Usage: python -m nlp.build_pipeline [OUTPUT_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Set, cast

import spacy
from spacy.pipeline import EntityRuler

from careers.rules_file import EntryRules, load_rules
from careers.vocabulary import DEGREE_CLASS_IDS, ENTITY_LABELS, PROGRAMMES

HERE = Path(__file__).parent
PATTERN_DIR = HERE / "patterns"
DEFAULT_OUTPUT = HERE.parent / "build" / "spacy-en-careers"
LABELS = frozenset(ENTITY_LABELS)


class PatternFileError(ValueError):
    """A pattern file line is malformed; the message names the file and line."""


def known_ids(rules: EntryRules) -> Dict[str, Set[str]]:
    """The canonical values a pattern may carry, by label, where the domain defines them."""
    return {
        "programme": set(PROGRAMMES),
        "degree_class": set(DEGREE_CLASS_IDS),
        "qualification": set(rules.qualifications),
    }


def read_patterns(pattern_dir: Path = PATTERN_DIR, rules: Optional[EntryRules] = None) -> List[Dict]:
    """All patterns from the JSONL files, checked line by line: a programme, degree
    class or qualification must be one the domain knows."""
    allowed = known_ids(rules or load_rules())
    patterns = []
    for path in sorted(pattern_dir.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                pattern = json.loads(line)
            except json.JSONDecodeError as error:
                raise PatternFileError(f"{path}:{number}: not JSON: {error}") from None
            if pattern.get("label") not in LABELS:
                raise PatternFileError(f"{path}:{number}: label must be one of {sorted(LABELS)}")
            if not isinstance(pattern.get("pattern"), (str, list)) or not pattern["pattern"]:
                raise PatternFileError(f"{path}:{number}: 'pattern' must be text or a token list")
            if not isinstance(pattern.get("id"), str) or not pattern["id"]:
                raise PatternFileError(f"{path}:{number}: 'id' (the canonical value) is missing")
            known = allowed.get(pattern["label"])
            if known is not None and pattern["id"] not in known:
                raise PatternFileError(
                    f"{path}:{number}: unknown {pattern['label']} '{pattern['id']}'; known: {sorted(known)}"
                )
            patterns.append(pattern)
    return patterns


def subject_patterns(rules: EntryRules) -> List[Dict]:
    """Every subject the rules file names, recognised under its own name."""
    names = set(rules.subjects) | rules.a_level_science | rules.a_level_ask_university
    return [{"label": "subject", "pattern": name, "id": name} for name in sorted(names)]


def programme_patterns() -> List[Dict]:
    """Each programme by its short name ("STP", "stp")."""
    return [{"label": "programme", "pattern": code.lower(), "id": code} for code in PROGRAMMES]


def build(output: Path = DEFAULT_OUTPUT) -> spacy.Language:
    """Create the pipeline and write it to `output`."""
    nlp = spacy.blank("en")
    # `add_pipe` is typed as returning any `Pipe`; the "entity_ruler" factory makes an EntityRuler.
    ruler = cast(
        EntityRuler,
        nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True}),
    )
    rules = load_rules()
    ruler.add_patterns(read_patterns(rules=rules) + programme_patterns() + subject_patterns(rules))
    nlp.meta.update(
        {
            "name": "careers",
            "version": "1.0.0",
            "description": "Rule-based entities for the clinical engineering careers bot",
            "spacy_version": f">={spacy.__version__},<3.5.0",
        }
    )
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return nlp


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    pipeline = build(target)
    count = len(cast(EntityRuler, pipeline.get_pipe("entity_ruler")).patterns)
    print(f"spaCy pipeline with {count} patterns written to {target}")
