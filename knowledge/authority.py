"""Who issued a document and where it applies: 江门 (local), 广东, or national.

Why: for "how much does the government give", the national regulation that
*encourages* support ranks above the Jiangmen measure that *states* 1万元. The
engine needs to know which text is local to prefer it for local facts, and
which is a law to prefer it for rights and procedure. That is metadata of the
document, kept in ``knowledge/authority.yml`` (never as special cases in code),
so a bureau adding a county notice only adds a line there, or nothing when its
issuer already names the county.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.normalize import normalize_text

CONFIG_PATH = Path(__file__).with_name("authority.yml")
LEVELS = ("local", "province", "national")


@dataclass(frozen=True)
class Authority:
    issuer: str | None
    region: str
    level: str  # one of LEVELS

    @property
    def local(self) -> bool:
        return self.level == "local"


@dataclass(frozen=True)
class AuthorityTable:
    documents: dict[str, dict[str, str]]
    rules: tuple[tuple[re.Pattern[str], str, str], ...]
    local_cues: re.Pattern[str]

    def describe(self, title: str, issuer: str | None = None, doc_id: str = "") -> Authority:
        """The document's issuer, region and level (overrides first, then the rules)."""
        override = self.documents.get(_key(title)) or self.documents.get(_key(doc_id)) or {}
        issuer = override.get("issuer") or issuer
        if "region" in override and "level" in override:
            return Authority(issuer, override["region"], override["level"])
        for probe in (issuer or "", normalize_text(title)):
            for pattern, region, level in self.rules:
                if probe and pattern.search(probe):
                    return Authority(issuer, region, level)
        return Authority(issuer, "全国", "national")

    def is_local_question(self, question: str) -> bool:
        return bool(self.local_cues.search(normalize_text(question)))


def _key(title: str) -> str:
    return re.sub(r"\s+", "", normalize_text(title)).removeprefix("中华人民共和国")


@lru_cache(maxsize=2)
def load_authority(path: Path = CONFIG_PATH) -> AuthorityTable:
    """Read and check the table; a bad level or pattern fails loudly at start-up."""
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    documents: dict[str, dict[str, str]] = {}
    for name, fields in (data.get("documents") or {}).items():
        if not isinstance(fields, dict):
            raise ValueError(f"{path.name}：documents.{name} 必须是键值表。")
        if fields.get("level") not in (None, *LEVELS):
            raise ValueError(f"{path.name}：documents.{name}.level 只能是 {'、'.join(LEVELS)}。")
        documents[_key(str(name))] = {k: str(v) for k, v in fields.items()}
    rules = []
    for n, rule in enumerate(data.get("rules") or [], start=1):
        if rule.get("level") not in LEVELS or not rule.get("region") or not rule.get("match"):
            raise ValueError(f"{path.name}：第 {n} 条规则需要 match、region 和 level。")
        rules.append((re.compile(str(rule["match"])), str(rule["region"]), str(rule["level"])))
    cues = re.compile(str(data.get("local_cues") or r"(?!)"))
    return AuthorityTable(documents, tuple(rules), cues)
