"""Page models of the test site. Block names are intents with ``_`` for ``-`` (Wagtail forbids
dashes in block names); Charter's Wagtail adapter maps them back."""

from django.db import models
from wagtail import blocks
from wagtail.api import APIField
from wagtail.fields import StreamField
from wagtail.models import Page


class LinkBlock(blocks.StructBlock):
    label = blocks.CharBlock()
    href = blocks.CharBlock()


SECTIONS = [
    (
        "hero",
        blocks.StructBlock(
            [
                ("title", blocks.CharBlock()),
                ("subtitle", blocks.CharBlock(required=False)),
                ("cta", LinkBlock()),
            ]
        ),
    ),
    (
        "feature_grid",
        blocks.StructBlock(
            [
                ("title", blocks.CharBlock(required=False)),
                (
                    "features",
                    blocks.ListBlock(blocks.StructBlock([("title", blocks.CharBlock()), ("body", blocks.TextBlock())])),
                ),
            ]
        ),
    ),
    (
        "testimonial_set",
        blocks.StructBlock(
            [
                (
                    "testimonials",
                    blocks.ListBlock(
                        blocks.StructBlock(
                            [
                                ("quote", blocks.TextBlock()),
                                ("author", blocks.CharBlock()),
                                ("role", blocks.CharBlock(required=False)),
                            ]
                        )
                    ),
                ),
            ]
        ),
    ),
    (
        "pricing_table",
        blocks.StructBlock(
            [
                ("title", blocks.CharBlock(required=False)),
                ("plans", blocks.ListBlock(blocks.PageChooserBlock(page_type="intents.PricingPlanPage"))),
            ]
        ),
    ),
    (
        "faq",
        blocks.StructBlock(
            [
                (
                    "items",
                    blocks.ListBlock(
                        blocks.StructBlock([("question", blocks.CharBlock()), ("answer", blocks.TextBlock())])
                    ),
                ),
            ]
        ),
    ),
    ("call_to_action", blocks.StructBlock([("title", blocks.CharBlock()), ("cta", LinkBlock())])),
    ("rich_text", blocks.StructBlock([("body", blocks.TextBlock())])),
]


class RevisionFields:
    """Expose when and at which revision a page went live (Charter's envelope carries both)."""

    @property
    def published_revision(self) -> int | None:
        return self.live_revision_id


class IntentPage(RevisionFields, Page):
    description = models.CharField(max_length=300, blank=True)
    body = StreamField(SECTIONS, blank=True)

    api_fields = [
        APIField("description"),
        APIField("body"),
        APIField("last_published_at"),
        APIField("published_revision"),
    ]


class PricingPlanPage(RevisionFields, Page):
    plan_id = models.CharField(max_length=60)
    price = models.FloatField()
    currency = models.CharField(max_length=3, choices=[("USD", "USD"), ("EUR", "EUR"), ("GBP", "GBP")])
    features = models.JSONField(default=list, blank=True)

    api_fields = [
        APIField("plan_id"),
        APIField("price"),
        APIField("currency"),
        APIField("features"),
        APIField("last_published_at"),
        APIField("published_revision"),
    ]
