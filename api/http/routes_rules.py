"""The rule packs being served: list them, validate a candidate set, reload from disk.

A reload builds and compiles the whole new set before one attribute store swaps it in; any error
anywhere refuses the set (422 naming file, line and rule id) and the old packs keep serving.
Validation compiles without registering rulesets, because durable-rules can never free a
registered ruleset (DESIGN section 7) and a validation should not cost memory for good.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from api.answers import PackInfo, RulesView
from api.http import metrics
from api.http.deps import ActorDep, RulesAdmin, RulesReader, StateDep
from api.http.lifecycle import lifecycle_of
from api.http.problems import ProblemError, responses
from api.http.strictjson import StrictJsonRoute
from engine import packfiles
from engine.compiler import compile_pack_set
from engine.errors import RulePackError
from engine.evaluator import Engine, coerce_options
from engine.rulespec import PackSet, load_pack_set

router = APIRouter(prefix="/v1/rules", tags=["rules"], route_class=StrictJsonRoute)
log = logging.getLogger("baygate.http")






class ValidationResult(BaseModel):
    valid: bool = Field(description="Always true here: an invalid set is answered with a 422 problem.")
    digest: str
    packs: list[PackInfo]
    rules: int
    obligations: int


class ReloadResult(BaseModel):
    reloaded: bool = Field(description="False when the packs on disk are the ones already served.")
    previous_digest: str
    digest: str
    packs: list[PackInfo]


class PackFiles(BaseModel):
    """A candidate pack set sent in the body: file name -> YAML text."""

    files: dict[str, str] = Field(
        min_length=1, max_length=200,
        description="Pack file names (e.g. cn-outbound.yaml, no folders) mapped to their YAML text.")


def pack_infos(pack_set: PackSet) -> list[PackInfo]:
    return [PackInfo(pack=p.name, version=p.version, title=p.title, file=p.file, digest=p.digest,
                     rules=[r.id for r in p.rules]) for p in pack_set.packs]


@router.get("", response_model=RulesView, responses=responses(401, 403))
async def list_rules(state: StateDep, _roles: RulesReader) -> RulesView:
    """The digest, packs and options of the rule packs being served."""
    engine = state.engine
    return RulesView(digest=engine.digest, packs=pack_infos(engine.pack_set), options=engine.options)


def _check(pack_set: PackSet, options: dict[str, Any]) -> None:
    coerce_options(pack_set, options)
    compile_pack_set(pack_set)


@router.post("/validate", response_model=ValidationResult, responses=responses(401, 403, 413, 422))
def validate_rules(state: StateDep, _roles: RulesAdmin,
                   candidate: Annotated[PackFiles | None, Body()] = None) -> ValidationResult:
    """Validate a pack set without serving it: the files in the body, or (without a body) the packs on
    disk that a reload would load. Invalid: 422 with every issue's file, line and rule id."""
    if candidate is None:
        pack_set = load_pack_set(state.settings.rules_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="baygate-validate-") as folder:
            for name, text in candidate.files.items():
                if Path(name).name != name or not name.endswith((".yaml", ".yml")) or name.startswith("."):
                    raise ProblemError(422, "bad-input", f"files: {name!r} is not a plain .yaml file name",
                                       errors=[{"path": f"files.{name}", "message": "not a .yaml file name",
                                                "in": "body"}])
                (Path(folder) / name).write_text(text, encoding="utf-8")
            pack_set = load_pack_set(folder)
    _check(pack_set, state.settings.options)
    return ValidationResult(valid=True, digest=pack_set.digest, packs=pack_infos(pack_set),
                            rules=len(pack_set.rules), obligations=len(pack_set.obligations))


@router.post("/reload", response_model=ReloadResult, responses=responses(401, 403, 422))
def reload_rules(http: Request, state: StateDep, _roles: RulesAdmin, actor: ActorDep) -> ReloadResult:
    """Load the packs from the service's rules folder, validate and compile them whole, then swap them
    in atomically, in every worker: the set is published (api.http.lifecycle) before this answers, and
    each worker swaps it in before its next answer. A bad set: 422 naming file, line and rule id, and
    the old packs keep serving everywhere."""
    with state.reload_lock:
        previous = state.engine
        lifecycle = lifecycle_of(http.app.state)
        folder = Path(tempfile.mkdtemp(prefix="baygate-reload-"))
        keep = False
        try:
            # The files are read once, into a snapshot; that copy is validated, published and installed.
            source = packfiles.snapshot(state.settings.rules_dir, folder)
            pack_set = load_pack_set(source)
            same = pack_set.digest == previous.digest
            engine = previous if same else Engine(pack_set, state.settings.options)
            if not same:
                lifecycle.install(engine, source, actor)
                keep = lifecycle.generations is None  # then the ledger reads this version's texts here
        except RulePackError as exc:
            metrics.RELOAD_FAILURES.inc()
            log.warning("rule pack reload refused (%d issues); still serving %s",
                        len(exc.issues), previous.digest)
            raise
        except Exception:
            metrics.RELOAD_FAILURES.inc()
            raise
        finally:
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
        swapped = engine is not previous
        if swapped:
            metrics.RELOADS.inc()
            metrics.set_rules_digest(engine.digest)
            log.info("rule packs reloaded: %s -> %s", previous.digest, engine.digest)
    return ReloadResult(reloaded=swapped, previous_digest=previous.digest, digest=engine.digest,
                        packs=pack_infos(engine.pack_set))
