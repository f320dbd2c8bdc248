"""Which prompt answers a ``/v1/ask`` question: a registry prompt named in retrieval.yaml.

``intents.<name>.prompt`` (else ``answering.prompt``) is ``NAME`` or ``NAME@VERSION``. ``NAME@VERSION``
pins that version; ``NAME`` is chosen as any prompt run chooses (docs/prompts.md): the first matching
flag (by locale here: /v1/ask has no user id, so percentage flags never match), else the
``production`` label, so eval-gated promotion and one-command rollback apply. With no prompt named,
the built-in wording (``charter.retrieval.answer.SYSTEM_PROMPT``) answers, reported as version
``charter.retrieval.answer.PROMPT_VERSION``.

The prompt gets three variables: ``question``, ``refusal`` (the contract's refusal text) and
``sources``, one line per source exactly as :func:`~charter.retrieval.answer.build_messages` writes
them (defused; the convention the ``local`` provider and the citation check read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from charter.exceptions import Conflict, NotFound

if TYPE_CHECKING:
    from charter.gateway.prompts.registry import PromptVersion
    from charter.retrieval.answer import MessageBuilder
    from charter.retrieval.contract import Contract
    from charter.retrieval.index import Hit

BUILTIN = "retrieval.answer"


@dataclass(frozen=True)
class AnswerPrompt:
    """The prompt that answers: ``name``, ``version``, ``selected_by`` (``version`` for a pinned
    one, ``label:production``, ``flag:<name>``, or ``builtin``), the messages builder and the
    prompt version's route (None for the built-in one)."""

    name: str
    version: str
    selected_by: str
    build: MessageBuilder
    route: str | None = None

    def info(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "selected_by": self.selected_by}


def prompt_ref(contract: Contract, intent: str | None) -> str | None:
    """What retrieval.yaml names for ``intent``: its own prompt, else ``answering.prompt``."""
    own = contract.intents[intent].prompt if intent in contract.intents else None
    return own or contract.answering.prompt


def _builder(pv: PromptVersion, builtin: MessageBuilder) -> MessageBuilder:
    def build(question: str, hits: list[Hit], refusal: str) -> list[dict[str, Any]]:
        # One line per source, as the built-in builder writes them (its last len(hits) lines).
        lines = builtin(question, hits, refusal)[0]["content"].splitlines()[-len(hits) :] if hits else []
        return pv.render({"question": question, "refusal": refusal, "sources": lines})

    return build


def select_answer_prompt(
    rt: Any,
    contract: Contract,
    intent: str | None,
    locale: str | None,
    builtin: MessageBuilder,
    builtin_version: str,
) -> AnswerPrompt:
    """The :class:`AnswerPrompt` for ``intent`` (``builtin``/``builtin_version``: the built-in
    wording's builder and version, used when retrieval.yaml names no prompt). Raises
    :class:`~charter.exceptions.Conflict` (409) naming retrieval.yaml when the prompt or pinned
    version it names does not exist, when no version is selectable (no production label yet),
    and when a released version was edited."""
    ref = prompt_ref(contract, intent)
    if ref is None:
        return AnswerPrompt(BUILTIN, builtin_version, "builtin", builtin)
    from charter.gateway import get_gateway
    from charter.gateway.prompts.labels import check_immutable, labels_of, releases_of, select

    name, _, version = ref.partition("@")
    where = f"retrieval.yaml ({f'intent {intent!r}' if intent and contract.intents[intent].prompt else 'answering'})"
    registry = get_gateway(rt).prompts
    try:
        prompt = registry.get(name)
    except NotFound:
        raise Conflict(f"{where} names prompt {name!r}, which prompts/ does not have") from None
    if version and version not in prompt.versions:
        raise Conflict(
            f"{where} names prompt {name}@{version}, which {prompt.path.name} does not have "
            f"(versions: {', '.join(prompt.versions)})"
        )
    with rt.read() as conn:
        labels, released = labels_of(conn, name), releases_of(conn, name)
    try:
        selection = select(prompt, labels, version=version or None, locale=locale, released=released)
    except Conflict as exc:
        raise Conflict(f"{where} names prompt {name!r}: {exc.detail}") from None
    pv = selection.version
    check_immutable(pv, released)
    return AnswerPrompt(name, pv.version, selection.selected_by, _builder(pv, builtin), pv.route)
