"""Invoice templates: each organization has the three stock templates (made on first use) and may
keep more; an invoice picks one by key (unknown key: 422 unknown_template)."""

from __future__ import annotations

from django.db import IntegrityError

from core.errors import ErrorCode, InvalidInput
from invoicing.models import InvoiceTemplate, TemplateLayout

STOCK_TEMPLATES = (
    ("classic", "Classic", TemplateLayout.CLASSIC, True, "Thank you for your business.",
     "Payment due within 30 days of the issue date."),
    ("modern", "Modern", TemplateLayout.MODERN, False, "Paid in crypto? The amount is fixed for the quote's validity.",
     "Payment due within 14 days. Crypto payments are matched on chain automatically."),
    ("compact", "Compact", TemplateLayout.COMPACT, False, "",
     "Payment due on receipt."),
)


def templates_ensure(organization_id) -> None:
    """The stock templates the organization lacks (idempotent, safe when two requests race)."""
    have = set(InvoiceTemplate.objects.for_organization(organization_id).values_list("key", flat=True))
    for key, name, layout, is_default, footer, terms in STOCK_TEMPLATES:
        if key in have:
            continue
        try:
            InvoiceTemplate.objects.create(organization_id=organization_id, key=key, name=name, layout=layout,
                                           is_default=is_default, footer_text=footer, payment_terms=terms)
        except IntegrityError:
            continue  # made a moment ago by a concurrent request


def template_resolve(organization_id, key: str | None) -> InvoiceTemplate:
    """The organization's template `key` (None: its default one)."""
    templates_ensure(organization_id)
    templates = InvoiceTemplate.objects.for_organization(organization_id)
    if not key:
        return templates.filter(is_default=True).first() or templates.order_by("key").first()
    template = templates.filter(key=key).first()
    if template is None:
        raise InvalidInput(ErrorCode.UNKNOWN_TEMPLATE, f"No invoice template {key!r}.",
                           {"template": key, "known": sorted(templates.values_list("key", flat=True))})
    return template
