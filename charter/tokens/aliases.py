"""Resolve aliases and types, then check every value (DTCG 2025.10 §5.2.2, §7, §8-§9).

* A token's type is its own ``$type``; else, for an alias, the type of the token it references;
  else the closest group ``$type``; else the token is invalid (§5.2.2). Charter is stricter on one
  point: an alias inside a group whose ``$type`` differs from the referenced token's type is
  reported as a mismatch instead of silently taking the target's type.
* Curly-brace aliases follow chains of any length (iteratively, so 100-layer chains do not
  recurse); a cycle is reported with the whole cycle, ``a -> b -> c -> a`` (§7.2.3).
* ``$ref`` JSON pointers that enter a token's ``$value`` read the *resolved* value of that token,
  so a pointer to ``#/base/blue/$value/components/0`` sees through ``base.blue``'s own aliases.
* Aliases inside composite values must point to tokens of the sub-value's type (§9).
"""

from __future__ import annotations

from typing import Any

from charter.tokens.model import MAX_DEPTH, TYPES, Alias, Pointer, Problems, Token
from charter.tokens.parser import lookup, split_pointer
from charter.tokens.values import CHECKS, COMPOSITE_FIELDS

_DONE, _FAILED = 2, 3
_ARRAY_TYPES = frozenset({"shadow", "gradient"})


class _Failed(Exception):
    """A reference inside a value could not be resolved (already reported)."""


class Resolver:
    def __init__(
        self, tokens: dict[str, Token], document: dict[str, Any], problems: Problems, checks: Any = None
    ) -> None:
        self.checks = CHECKS if checks is None else checks
        self.tokens = tokens
        self.document = document
        self.problems = problems
        self.state: dict[str, int] = {}
        self.stack: list[str] = []
        self.on_stack: set[str] = set()
        self.suggested = 0
        self.nesting = 0

    def run(self) -> None:
        for token in self.tokens.values():
            if token.path not in self.state:
                self.token(token)

    # -- whole tokens ---------------------------------------------------------------------
    def token(self, token: Token) -> bool:
        """Resolve ``token`` (following a whole-value alias chain iteratively); True if valid."""
        st = self.state.get(token.path)
        if st is not None:
            return st == _DONE
        if token.path not in self.on_stack:
            if token.alias is None:
                return self.literal(token)
            # An alias of a token already resolved (the common case when targets come first).
            target = self.tokens.get(token.alias)
            if target is not None and self.state.get(target.path) == _DONE:
                expected = token.declared_type or token.group_type
                if expected is None or expected == target.type:
                    token.type = target.type
                    token.resolved = target.resolved
                    self.state[token.path] = _DONE
                    return True
        chain: list[Token] = []
        cur = token
        ok = True
        while True:
            st = self.state.get(cur.path)
            if st == _DONE:
                break
            if st == _FAILED:
                ok = False
                break
            if cur.path in self.on_stack:
                start = self.stack.index(cur.path)
                cycle = " -> ".join([*self.stack[start:], cur.path])
                self.problems.token(cur, f"circular reference: {cycle}", "cycle")
                ok = False
                break
            if cur.alias is None:
                ok = self.literal(cur)
                break
            chain.append(cur)
            self.stack.append(cur.path)
            self.on_stack.add(cur.path)
            target = self.tokens.get(cur.alias)
            if target is None:
                self.missing(cur, cur.alias)
                ok = False
                break
            cur = target
        for t in chain:
            self.stack.pop()
            self.on_stack.discard(t.path)
        for t in reversed(chain):
            if not ok:
                self.state[t.path] = _FAILED
                continue
            target = self.tokens[t.alias]  # type: ignore[index]
            expected = t.declared_type or t.group_type
            if expected is not None and expected != target.type:
                where = "$type" if t.declared_type else "group $type"
                self.problems.token(
                    t, f"mismatched $type: {where} is {expected!r} but {{{t.alias}}} is {target.type!r}", "type"
                )
                self.state[t.path] = _FAILED
                ok = False
                continue
            t.type = target.type
            t.resolved = target.resolved
            self.state[t.path] = _DONE
        return ok

    def literal(self, token: Token) -> bool:
        type_ = token.declared_type or token.group_type
        if type_ is None:
            self.problems.token(
                token, "missing $type: set it on the token or a parent group (DTCG 2025.10 §5.2.2)", "type"
            )
            self.state[token.path] = _FAILED
            return False
        token.type = type_
        if token.refs:
            # Property-level references recurse (token -> value -> token): bound the nesting.
            if self.nesting > MAX_DEPTH:
                self.problems.token(
                    token,
                    f"references inside values nested more than {MAX_DEPTH} levels deep (Charter's limit)",
                    "depth",
                )
                self.state[token.path] = _FAILED
                return False
            self.stack.append(token.path)
            self.on_stack.add(token.path)
            self.nesting += 1
            try:
                value = self.value(token.value, type_, token)
            except _Failed:
                self.state[token.path] = _FAILED
                return False
            finally:
                self.nesting -= 1
                self.stack.pop()
                self.on_stack.discard(token.path)
        else:  # nothing to resolve (the parser converted no reference)
            value = token.value
        error = self.checks[type_](value)
        if error:
            self.problems.token(token, f"invalid {type_} value: {error}", "value", "/$value")
            self.state[token.path] = _FAILED
            return False
        token.resolved = value
        self.state[token.path] = _DONE
        return True

    def missing(self, owner: Token, path: str) -> None:
        """Report ``{path}`` as unresolvable, saying why (§7.1.1: braces name tokens, not groups)."""
        try:
            node = lookup(self.document, path.split("."))
        except KeyError:
            node = None
        if type(node) is dict and "$value" in node:
            # The parser refused the token itself (and said why, at its own pointer).
            declared = node.get("$type")
            if declared is not None and declared not in TYPES:
                why = f"{{{path}}} has an unknown $type {declared!r}"
            else:
                why = f"{{{path}}} is not a valid token (see its own error)"
        elif type(node) is dict:
            hint = f"; its root token is {{{path}.$root}}" if "$root" in node else ""
            why = f"{{{path}}} is a group, not a token{hint}"
        else:
            import difflib

            # Suggestions cost a scan of every token: only for the first few misses.
            self.suggested += 1
            close = difflib.get_close_matches(path, list(self.tokens), n=1) if self.suggested <= 10 else []
            why = "no such token" + (f" (did you mean {{{close[0]}}}?)" if close else "")
        self.problems.token(owner, f"unresolved reference {{{path}}}: {why}", "reference")

    # -- values ---------------------------------------------------------------------------
    def value(self, v: Any, ctx: str | None, owner: Token) -> Any:
        """Resolve references inside ``v``; ``ctx`` is the type ``v`` should have (or None)."""
        t = type(v)
        if t is Alias:
            return self.alias(v, ctx, owner)
        if t is Pointer:
            return self.pointer(v, owner)
        if t is dict:
            fields = COMPOSITE_FIELDS.get(ctx or "")
            out = None
            for k, sub in v.items():
                sub_ctx = fields.get(k) if fields else ("dimension" if k == "dashArray" else None)
                nv = self.value(sub, sub_ctx, owner) if type(sub) in (Alias, Pointer, dict, list) else sub
                if nv is not sub:
                    if out is None:
                        out = dict(v)
                    out[k] = nv
            return out if out is not None else v
        if t is list:
            if ctx in _ARRAY_TYPES:
                items: list[Any] = []
                for item in v:
                    if type(item) is Alias or type(item) is Pointer:
                        got = self.value(item, ctx, owner)
                        # A referenced layered shadow / multi-stop gradient contributes its layers.
                        items.extend(got if type(got) is list else [got])
                    else:
                        items.append(self.value(item, ctx, owner))
                return items
            out_list = None
            for i, item in enumerate(v):
                nv = self.value(item, ctx if ctx == "dimension" else None, owner)
                if nv is not item:
                    if out_list is None:
                        out_list = list(v)
                    out_list[i] = nv
            return out_list if out_list is not None else v
        return v

    def alias(self, a: Alias, ctx: str | None, owner: Token) -> Any:
        target = self.tokens.get(a.path)
        if target is None:
            self.missing(owner, a.path)
            raise _Failed
        if not self.token(target):
            raise _Failed
        if ctx is not None and target.type != ctx:
            self.problems.token(
                owner, f"mismatched $type: {{{a.path}}} is {target.type!r} where a {ctx!r} is expected", "type"
            )
            raise _Failed
        return target.resolved

    def pointer(self, p: Pointer, owner: Token) -> Any:
        parts = split_pointer(p.ref) or []
        if "$value" in parts:
            i = parts.index("$value")
            path = ".".join(parts[:i])
            target = self.tokens.get(path)
            if target is None:
                self.problems.token(owner, f"unresolved $ref {p.ref!r}: no token {path!r}", "reference")
                raise _Failed
            if not self.token(target):
                raise _Failed
            try:
                return lookup(target.resolved, parts[i + 1 :])
            except KeyError:
                self.problems.token(owner, f"unresolved $ref {p.ref!r}: no such property", "reference")
                raise _Failed
        try:
            return lookup(self.document, parts)
        except KeyError:
            self.problems.token(owner, f"unresolved $ref {p.ref!r}", "reference")
            raise _Failed


def resolve(tokens: dict[str, Token], document: dict[str, Any], problems: Problems, checks: Any = None) -> None:
    """Fill ``type`` and ``resolved`` on every token; add every problem to ``problems``. ``checks``
    replaces the value rules (:data:`charter.tokens.values.CHECKS`; ``--compat`` relaxes them)."""
    Resolver(tokens, document, problems, checks).run()
