"""Query-time synonyms: the words visitors use for what the content calls otherwise.

A visitor asks about a "yearly subscription", "money back" or the "price of a tier"; the content
says "annual plan", "refund" and "costs". A lexicon per language maps the one to the other at query
time, as Elasticsearch's ``synonym_graph`` filter and Solr's ``synonyms.txt`` do, in their format:

* ``"yearly, annual, annually"``: equivalent words; each one found in a question also searches for
  the others;
* ``"money back, reimbursement => refund"``: one-way; the words left of ``=>`` search for the words
  right of it (and not the other way round).

A rule's words may be phrases (``money back``, ``log in``); a single word matches every form the
language's stemmer reduces to the same stem (``refunds``, ``refunded``). In a language that writes
compounds as one word (German, Dutch, Swedish, Danish) a word that *ends* with a rule's word
(``Jahresabo``: ``Abo``) also searches for the same compound with each alternative
(``Jahresplan``).

The lexicon only widens what a question's words may match (:meth:`Lexicon.matches`); the index
decides which alternatives it holds (:meth:`charter.retrieval.index.LocaleIndex.query_slots`), and
a question word with an alternative the index holds is not an unknown word for the evidence gate.
The shipped lexicon (:data:`BUILTIN`) covers common web and SaaS vocabulary in English and German:
plans and pricing, billing, cancellation and refunds, accounts and sign-in, support, data, privacy
and security, and the analytics words of charts and dashboards. ``retrieval.yaml``'s ``synonyms``
adds a project's own rules (``builtin: false`` drops the shipped ones), docs/retrieval.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

#: The shipped rules, per language (Solr format, see the module docstring).
BUILTIN: dict[str, tuple[str, ...]] = {
    "en": (
        # plans and pricing
        "plan, tier, package, subscription, edition",
        "price, pricing, cost, costs, fee, fees, charge, charges",
        "expensive, cheap, how much do i pay, how much will i pay, what do i pay => price, cost",
        "annual, annually, yearly, per year, a year, every year",
        "monthly, per month, a month, every month",
        "free, no cost, for free, without paying, gratis, free of charge",
        "cheaper plan, smaller plan, lower plan, lower tier, smaller tier, cheaper tier => downgrade",
        "bigger plan, larger plan, higher plan, higher tier, bigger tier => upgrade",
        "change, switch",
        "cheaper, less expensive => save, saving",
        "eur, euro, euros",
        "unlimited, no limit, without limit, unlimited number",
        # billing, cancellation, refunds
        "invoice, invoices, bill, receipt",
        "refund, refunds, refunded, money back, reimbursement, reimburse, repayment",
        "cancel, cancellation, cancelled, terminate, termination, unsubscribe, quit",
        "renew, renewal, renews, auto-renew, automatically renew, extend",
        # accounts and sign-in
        "sso, single sign-on, sign-on, log in, login, logon, log on, sign in, signin",
        "member, members, user, users, seat, seats, teammate, teammates, colleague, colleagues",
        "administrator, admin, admins, owner",
        "require, enforce, force, mandatory, mandate",
        # support and contact
        "support, help, assistance, helpdesk, help desk, customer service, customer support",
        "email, e-mail, mail",
        # data, privacy, security
        "data, information, info, details",
        "collect, collects, collected, gather, process, processed, processing",
        "delete, deletion, erase, remove, removal, wipe, purge",
        "store, stored, storage, host, hosted, hosting, located, reside, resides, kept",
        "retention, retain, keep, history, how far back",
        "eu, europe, european",
        "uptime, availability, downtime, reliability, sla",
        "guarantee, guaranteed, guarantees, promise, commitment => sla",
        "limit, limits, cap, maximum, max, ceiling, at most",
        "liability, liable, responsible, compensation",
        # product and analytics
        "chart, charts, graph, graphs, diagram, diagrams, visualization, visualisation, widget, plot",
        "dashboard, dashboards, board, boards",
        "key, keys, token, tokens, credential, credentials",
        "leak, leaked, compromised, exposed, stolen => rotate, revoke",
        "revoke, revoked, invalidate, disable, deactivate",
        "rotate, rotation, regenerate, roll",
        "install, installation, embed",
        "fast, quick, quickly, speed, performance, slow",
        "found, founded, founding, founder, founders, established, establish",
        "start, started, begin, began, launch, launched => founded",
        "appear, appears, show up, shows up, visible, show",
        "see, seen => appear, visible",
        "buy, bought, purchase, purchased, order, ordered",
        "proof, prove, proven, backs up, back up, backed by, substantiate, data behind, numbers behind => evidence",
        "link, url",
        # irregular forms the stemmer leaves apart
        "send, sent",
        "hold, holds, held",
        "keep, keeps, kept",
        "choose, chose, chosen",
        "lose, lost",
    ),
    "de": (
        # Pläne und Preise
        "Plan, Pläne, Tarif, Tarife, Abo, Abos, Abonnement, Paket, Pakete, Vertrag, Edition",
        "Preis, Preise, Kosten, kosten, kostet, Gebühr, Gebühren, Betrag",
        "teuer, günstig, billig, was zahle ich, wie viel zahle ich, was bezahle ich, wie viel bezahle ich"
        " => Preis, kostet",
        "jährlich, pro Jahr, im Jahr, Jahresplan",
        "monatlich, pro Monat, im Monat, Monatsplan",
        "kostenlos, gratis, umsonst, ohne Kosten, free",
        "wechseln, ändern, umsteigen",
        "günstiger, billiger => sparen, spart",
        "EUR, Euro",
        "unbegrenzt, unbegrenzte, unlimitiert, ohne Limit, beliebig viele",
        # Abrechnung, Kündigung, Erstattung
        "Rechnung, Rechnungen, Abrechnung, Quittung, Beleg",
        "Erstattung, Rückerstattung, erstatten, erstattet, zurückerstatten, Geld zurück, Rückzahlung, zurückzahlen",
        "kündigen, Kündigung, kündbar, beenden, stornieren, abbestellen, aufhören",
        "verlängern, Verlängerung, verlängert",
        # Konten und Anmeldung
        "SSO, Single Sign-on, anmelden, Anmeldung, einloggen, Login, Log-in",
        "Mitglied, Mitglieder, Nutzer, Benutzer, Anwender, Kollegen, Teammitglieder",
        "Administrator, Admin, Admins",
        "erzwingen, verlangen, vorschreiben, Pflicht",
        # Support und Kontakt
        "Support, Hilfe, Kundendienst, Kundenservice, Unterstützung",
        "E-Mail, Mail, Email",
        # Daten, Datenschutz, Sicherheit
        "Daten, Informationen, Angaben",
        "erheben, erhoben, sammeln, gesammelt, verarbeiten, verarbeitet, erfassen, erfasst",
        "löschen, Löschung, entfernen, gelöscht",
        "speichern, gespeichert, Speicherort, gehostet, hosten, Hosting, liegen, lagern",
        "aufbewahren, Aufbewahrung, aufbewahrt, behalten, vorhalten, Datenaufbewahrung",
        "EU, Europa, europäisch, europäischen",
        "Verfügbarkeit, Uptime, Ausfallzeit, SLA, Verfügbarkeits-SLA",
        "garantieren, Garantie, garantiert, zusichern => SLA, Verfügbarkeit",
        "Limit, Grenze, Obergrenze, maximal, höchstens, Maximum, begrenzt",
        "Haftung, haften, haftet",
        # Produkt und Analytics
        "Diagramm, Diagramme, Chart, Charts, Grafik, Grafiken, Graph, Visualisierung, Widget",
        "Dashboard, Dashboards, Board",
        "Schlüssel, Key, Token, Zugangsdaten",
        "installieren, Installation, einbinden, binden, einbauen",
        "schnell, zügig, Geschwindigkeit, langsam, Ladezeit",
        "gegründet, Gründung, Gründer, gründen",
        "kaufen, gekauft, Kauf, erwerben, erworben, bestellen, bestellt, abschließen, abgeschlossen",
        "erscheinen, erscheint, anzeigen, angezeigt, sichtbar, auftauchen",
        "Beweis, beweisen, belegen, Nachweis => Beleg",
    ),
}

#: The shipped translations, per (question language, content language): one-way rules in the same
#: format, from the words a visitor asks with to the words content in the other language uses. They
#: apply where a question is searched in (or answered from) content of another language, e.g. a
#: German question answered along the locale fallback chain from English content
#: (:meth:`Lexicon.matches` with ``into``). They cover the same vocabulary as :data:`BUILTIN`.
TRANSLATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("de", "en"): (
        # Pläne und Preise
        "Plan, Pläne, Tarif, Tarife, Abo, Abos, Abonnement, Paket, Pakete, Vertrag => plan, plans",
        "Preis, Preise, Kosten, kostet, kosten, Gebühr => price, costs",
        "Gebühren => fees",
        "kostenlos, gratis, umsonst, ohne Kosten => free",
        "jährlich, pro Jahr, im Jahr, Jahresplan, Jahresabo, Jahresabrechnung, jährliche => annual, annually",
        "monatlich, pro Monat, im Monat, Monatsplan, Monatsabo, monatliche => monthly",
        "Jahr, Jahre, Jahren => year, years",
        "Monat, Monate, Monaten => month, months",
        "Woche, Wochen => week",
        "Tag, Tage, Tagen => days",
        "Minute, Minuten => minute",
        "Sekunde, Sekunden => second, seconds",
        "sparen, spart, Ersparnis, günstiger, billiger => saves",
        "unbegrenzt, unbegrenzte, unlimitiert, beliebig viele => unlimited",
        "wechseln, ändern, umsteigen => change",
        "Upgrade, hochstufen, größeren Plan => upgrades",
        "Downgrade, herabstufen, kleineren Plan, günstigeren Plan => downgrades",
        "sofort, unmittelbar => immediately",
        # Abrechnung, Kündigung, Erstattung
        "Rechnung, Rechnungen, Abrechnung, Quittung => invoices, billing",
        "abgerechnet, abrechnen, Abrechnungsart => billed",
        "Abrechnungszeitraum, Abrechnungsperiode, Abrechnungsmonat => billing period",
        "Erstattung, Rückerstattung, erstatten, erstattet, Geld zurück, zurückerstatten => refund, refunded",
        "kündigen, Kündigung, gekündigt, kündbar, beenden, stornieren => cancelled, termination",
        "verlängern, Verlängerung, verlängert => renew, renewal",
        "Kauf, kaufen, gekauft, abgeschlossen => purchase",
        "Haftung, haften, haftet => liability, liable",
        "Nutzungsbedingungen, AGB, Bedingungen => terms",
        # Konten und Anmeldung
        "SSO, Single Sign-on, anmelden, Anmeldung, einloggen, Login => SSO, sign-on",
        "Mitglied, Mitglieder, Benutzer, Kollegen, Teammitglieder => member, members",
        "Administrator, Admin, Admins => admins",
        "erzwingen, verpflichtend, Pflicht, vorschreiben, verlangen => require",
        "Einstellungen => settings",
        "Sicherheit => security",
        "Schlüssel, Zugangsschlüssel, Token => key, keys",
        "erstellen, anlegen, erzeugen, generieren => create",
        "Berechtigung, Berechtigungen, Rechte, Umfang, Geltungsbereich => scope",
        "lesen, Lesezugriff, lesend => read",
        "rotieren, erneuern, austauschen, ersetzen => rotate",
        "widerrufen, sperren, deaktivieren, ungültig => revoke, revoked",
        "funktionieren, funktioniert, gehen => working",
        # Support und Kontakt
        "Support, Hilfe, Kundendienst, Unterstützung => support",
        "E-Mail, Mail, Email => e-mail",
        # Daten, Datenschutz, Sicherheit
        "Daten, Informationen, Angaben => data",
        "personenbezogene, personenbezogenen, persönliche, persönlichen => personal",
        "verarbeiten, verarbeitet, erheben, erfassen, sammeln => process",
        "löschen, gelöscht, Löschung, entfernen, entfernt => deleted, deletion, purged",
        "speichern, gespeichert, Speicherort, gehostet, Hosting, liegen => stored",
        "aufbewahren, aufbewahrt, Aufbewahrung, Datenaufbewahrung, behalten, vorhalten => keeps, retention",
        "Projekt, Projekte => project, projects",
        "Backup, Backups, Sicherung, Sicherungen, Datensicherung => backups",
        "Zugriff, Auskunft, einsehen => access",
        "Berichtigung, berichtigen, korrigieren, Korrektur => correction",
        "Datenschutz => privacy",
        "Verfügbarkeit, Uptime, Ausfallzeit => uptime",
        "Garantie, garantieren, garantiert => SLA",
        "Limit, Grenze, Obergrenze, maximal, höchstens, begrenzt => limited, up to",
        # Produkt und Analytics
        "Diagramm, Diagramme, Grafik, Grafiken, Chart, Charts, Graph, Visualisierung => chart, charts",
        "Dashboard, Dashboards, Board => dashboard, dashboards",
        "Kennzahl, Kennzahlen, Metrik, Metriken => metric",
        "Filter => filters",
        "teilen, geteilt, freigeben, Freigabe, weitergeben => share, shared",
        "Link, Links, URL => link",
        "öffentlich, öffentlichen, öffentlicher, schreibgeschützt => publish, read-only",
        "gültig, Gültigkeit, ablaufen, abläuft, verfällt, verfallen => expires",
        "Arbeitsbereich => workspace",
        "Event, Events, Ereignis, Ereignisse => events",
        "senden, schicken, erfassen, tracken => send, track",
        "installieren, Installation, einbinden, einbauen => install",
        "Seite => page",
        "schnell, zügig, Geschwindigkeit, Ladezeit => fast, load",
        "laden, lädt, geladen => load",
        "gegründet, Gründung, gründen, Gründer => founded",
        "Ingenieure, Entwickler => engineers",
        "Kunden, Kunde => customers",
        "Tabelle, Tabellen, Tabellenkalkulation, Excel => spreadsheets",
        "Beleg, Nachweis, Beweis, belegen, beweisen => evidence",
    ),
}

_RULE_ARROW = "=>"
_WORD = re.compile(r"\w+", re.UNICODE)
#: Languages that write compounds as one word: a word ending with a rule's word searches for
#: the same compound with each alternative (``Jahresabo`` -> ``Jahresplan``).
COMPOUNDING = frozenset({"de", "nl", "sv", "da"})
#: The shortest rule word (and compound remainder) taken as the head of a compound.
MIN_HEAD, MIN_MODIFIER = 3, 3


def parse_rule(rule: str | Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``"a, b => c"`` -> ((a, b), (c,)); ``"a, b, c"`` or ``[a, b, c]`` -> ((a, b, c), (a, b, c)).
    A ValueError says what is wrong with a rule."""
    if isinstance(rule, str):
        left, arrow, right = rule.partition(_RULE_ARROW)
        if _RULE_ARROW in right:
            raise ValueError(f"synonym rule {rule!r} has more than one '=>'")
        lhs = tuple(w.strip() for w in left.split(",") if w.strip())
        rhs = tuple(w.strip() for w in right.split(",") if w.strip()) if arrow else lhs
        if arrow and (not lhs or not rhs):
            raise ValueError(f"synonym rule {rule!r} needs words on both sides of '=>'")
    else:
        lhs = rhs = tuple(str(w).strip() for w in rule if str(w).strip())
    if not arrow_or_group(lhs, rhs):
        raise ValueError(f"synonym rule {rule!r} needs two words at least")
    for word in (*lhs, *rhs):
        if not _WORD.search(word):
            raise ValueError(f"synonym rule {rule!r}: {word!r} holds no word")
    return lhs, rhs


def arrow_or_group(lhs: tuple[str, ...], rhs: tuple[str, ...]) -> bool:
    return len(set(lhs) | set(rhs)) >= 2


@dataclass(frozen=True)
class Match:
    """A question's word or phrase a rule knows: ``text[start:end]``, and what it also searches for."""

    start: int
    end: int
    alternatives: tuple[str, ...]


@dataclass
class _Compiled:
    phrases: list[tuple[re.Pattern[str], tuple[str, ...]]] = field(default_factory=list)
    words: dict[str, list[str]] = field(default_factory=dict)
    heads: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


def _stem(word: str, language: str) -> str | None:
    from charter.retrieval.text import tokenizer_for

    found = tokenizer_for(language)(word)
    return found[0] if len(found) == 1 else None


class Lexicon:
    """Synonym rules per language (see the module docstring); compiled lazily per language."""

    def __init__(
        self,
        rules: Mapping[str, Iterable[str | Iterable[str]]],
        translations: Mapping[tuple[str, str], Iterable[str | Iterable[str]]] | None = None,
    ) -> None:
        self.rules: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
            language: [parse_rule(r) for r in found] for language, found in rules.items()
        }
        #: Rules from a question's language into a content language (:data:`TRANSLATIONS`).
        self.translations: dict[tuple[str, str], list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
            pair: [parse_rule(r) for r in found] for pair, found in (translations or {}).items()
        }
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def __bool__(self) -> bool:
        return any(self.rules.values()) or any(self.translations.values())

    def translates(self, language: str, into: str) -> bool:
        """Whether rules lead from questions in ``language`` to content in ``into``."""
        return language != into and bool(self.translations.get((language, into)))

    def _compile(self, language: str, into: str | None = None) -> _Compiled:
        pair = (language, into if into is not None and self.translates(language, into) else language)
        compiled = self._compiled.get(pair)
        if compiled is not None:
            return compiled
        compiled = _Compiled()
        rules = self.translations[pair] if pair[0] != pair[1] else self.rules.get(language, [])
        for lhs, rhs in rules:
            for member in lhs:
                others = tuple(w for w in rhs if w.lower() != member.lower())
                if not others:
                    continue
                words = _WORD.findall(member.lower())
                if len(words) > 1 or not re.fullmatch(r"\w+", member):
                    pattern = r"(?<!\w)" + r"[\s\-]*".join(re.escape(w) for w in words) + r"(?!\w)"
                    compiled.phrases.append((re.compile(pattern, re.IGNORECASE), others))
                    continue
                stem = _stem(member.lower(), language)
                if stem is None:
                    continue  # a stop word: it says nothing on its own
                known = compiled.words.setdefault(stem, [])
                known.extend(w for w in others if w not in known)
                if language in COMPOUNDING and len(member) >= MIN_HEAD:
                    compiled.heads.append((member.lower(), others))
        # The longest phrase first, so "free of charge" wins over "free".
        compiled.phrases.sort(key=lambda p: -len(p[0].pattern))
        compiled.heads.sort(key=lambda h: -len(h[0]))
        self._compiled[pair] = compiled
        return compiled

    def matches(self, text: str, language: str, into: str | None = None) -> list[Match]:
        """The words and phrases of ``text`` (in ``language``) a rule knows, in text order, each
        with its alternatives; a phrase wins over the words inside it. ``into``: the language of
        the content searched; when it differs and translations lead there, the alternatives are
        the translation rules' words in ``into`` instead of the synonyms in ``language``."""
        compiled = self._compile(language, into)
        if not (compiled.phrases or compiled.words):
            return []
        found: list[Match] = []
        taken: list[tuple[int, int]] = []
        for pattern, others in compiled.phrases:
            for m in pattern.finditer(text):
                if any(m.start() < end and start < m.end() for start, end in taken):
                    continue
                taken.append((m.start(), m.end()))
                found.append(Match(m.start(), m.end(), others))
        for m in _WORD.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            word = m.group(0).lower()
            stem = _stem(word, language)
            others_list = compiled.words.get(stem) if stem else None
            if others_list:
                found.append(Match(m.start(), m.end(), tuple(others_list)))
                continue
            for head, others in compiled.heads:
                modifier = word[: len(word) - len(head)]
                if word.endswith(head) and len(modifier) >= MIN_MODIFIER:
                    alternatives = tuple(modifier + w.lower() for w in others if re.fullmatch(r"\w+", w))
                    if alternatives:
                        found.append(Match(m.start(), m.end(), alternatives))
                    break
        found.sort(key=lambda x: x.start)
        return found


@lru_cache(maxsize=1)
def builtin() -> Lexicon:
    """The shipped lexicon (:data:`BUILTIN`)."""
    return Lexicon(BUILTIN, TRANSLATIONS)


def lexicon_from(builtin_rules: bool, own: Mapping[str, Iterable[str | Iterable[str]]]) -> Lexicon:
    """The shipped rules (unless ``builtin_rules`` is false) followed by a project's own."""
    rules: dict[str, list[str | Iterable[str]]] = {}
    if builtin_rules:
        for language, shipped in BUILTIN.items():
            rules.setdefault(language, []).extend(shipped)
    for language, found in own.items():
        rules.setdefault(language, []).extend(found)
    return Lexicon(rules, TRANSLATIONS if builtin_rules else None)
