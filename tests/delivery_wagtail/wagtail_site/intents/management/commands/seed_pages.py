"""Create and publish the test site's pages from a JSON seed file, print ``{key: {locale: id}}``.

Seed format (written by Charter's tests and benchmark from Charter content)::

    {"locales": ["en", "de-de"], "chains": {"de-de": ["de-de", "en"]},
     "plans": [{"key": "...", "locales": {"en": {"id", "name", "price", "currency", "features"}}}],
     "pages": [{"key": "...", "locales": {"en": {"slug", "title", "description", "sections": [...]}}}]}

Sections are Charter intents; ``pricing-table`` plans name plan keys, which become page ids of the
plan translation found first along the locale's chain (what wagtail-localize's sync would do).
"""

import json
import uuid
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from wagtail.models import Locale, Page, Site

from intents.models import IntentPage, PricingPlanPage


class Command(BaseCommand):
    help = "Create and publish pages from a JSON seed file"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("seed")

    def handle(self, *args: Any, **options: Any) -> None:
        with open(options["seed"], encoding="utf-8") as fh:
            seed = json.load(fh)
        with transaction.atomic():
            ids = self.seed(seed)
        self.stdout.write(json.dumps(ids))

    def seed(self, seed: dict[str, Any]) -> dict[str, dict[str, int]]:
        default = seed["locales"][0]
        locales = {code: Locale.objects.get_or_create(language_code=code)[0] for code in seed["locales"]}
        site_root = Site.objects.get(is_default_site=True).root_page
        site_root.slug = "lumen"
        site_root.title = "Lumen"
        site_root.save_revision().publish()
        for code, locale in locales.items():
            if code != default and site_root.get_translation_or_none(locale) is None:
                site_root.copy_for_translation(locale).save_revision().publish()

        ids: dict[str, dict[str, int]] = {}
        for plan in seed.get("plans", []):
            ids[plan["key"]] = self.create(site_root, PricingPlanPage, plan, default, locales, self.plan_fields)
        for page in seed.get("pages", []):
            chains = seed["chains"]

            def fields(doc: dict[str, Any], code: str, chains: dict[str, Any] = chains) -> dict[str, Any]:
                return self.page_fields(doc, code, chains, ids)

            ids[page["key"]] = self.create(site_root, IntentPage, page, default, locales, fields)
        return ids

    @staticmethod
    def create(
        parent: Page, model: type[Page], item: dict[str, Any], default: str, locales: dict[str, Locale], fields: Any
    ) -> dict[str, int]:
        docs = item["locales"]
        page = model(**fields(docs[default], default))
        parent.add_child(instance=page)
        page.save_revision().publish()
        out = {default: page.id}
        for code, doc in docs.items():
            if code == default:
                continue
            translation = page.copy_for_translation(locales[code])
            for name, value in fields(doc, code).items():
                setattr(translation, name, value)
            translation.save_revision().publish()
            out[code] = translation.id
        return out

    @staticmethod
    def plan_fields(doc: dict[str, Any], code: str) -> dict[str, Any]:
        return {
            "title": doc["name"],
            "slug": "plan-" + doc["id"],
            "plan_id": doc["id"],
            "price": doc["price"],
            "currency": doc["currency"],
            "features": doc.get("features", []),
        }

    @staticmethod
    def page_fields(
        doc: dict[str, Any], code: str, chains: dict[str, list[str]], ids: dict[str, dict[str, int]]
    ) -> dict[str, Any]:
        body = []
        for section in doc["sections"]:
            value = {k: v for k, v in section.items() if k != "intent"}
            if section["intent"] == "pricing-table":
                value["plans"] = [
                    next(ids[key][c] for c in chains.get(code, [code]) if c in ids[key]) for key in value["plans"]
                ]
            body.append({"type": section["intent"].replace("-", "_"), "value": value, "id": str(uuid.uuid4())})
        return {
            "title": doc["title"],
            "slug": doc["slug"],
            "description": doc.get("description", ""),
            "body": json.dumps(body),
        }
