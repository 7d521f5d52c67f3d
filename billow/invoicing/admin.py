"""Staff admin: tax rules and the providers' VAT registrations (editable), invoices and credit
notes (read-only, PDF download; staff credit notes are issued from a charge, billing admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline

from billow.invoicing.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    ProviderTaxProfile,
    TaxRule,
)


@admin.register(TaxRule)
class TaxRuleAdmin(ModelAdmin):
    list_display = (
        "name",
        "provider",
        "client_group",
        "client",
        "country",
        "region",
        "product_type",
        "rate",
        "included",
        "is_active",
    )
    list_filter = ("provider", "included", "is_active", "country")
    raw_id_fields = ("client",)


@admin.register(ProviderTaxProfile)
class ProviderTaxProfileAdmin(ModelAdmin):
    list_display = ("provider", "country", "vat_number", "eu_reverse_charge")


class _ReadOnly(ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class LineInline(TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(_ReadOnly):
    list_display = (
        "display_number",
        "provider",
        "client",
        "status",
        "total_minor",
        "tax_minor",
        "currency",
        "reverse_charge",
        "issued_at",
        "pdf_link",
    )
    list_filter = ("provider", "status", "year", "reverse_charge")
    search_fields = ("reference", "client__name")
    inlines = (LineInline,)

    @admin.display(description="PDF")
    def pdf_link(self, obj: Invoice) -> str:
        url = reverse("admin:invoicing_invoice_pdf", args=[obj.pk])
        return format_html('<a href="{}">PDF</a>', url)

    def get_urls(self) -> list[URLPattern]:
        pdf = path(
            "<int:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="invoicing_invoice_pdf"
        )
        return [pdf, *super().get_urls()]

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from billow.invoicing.pdf import render_invoice_pdf

        invoice = get_object_or_404(Invoice, pk=pk)
        response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice}.pdf"'
        return response


@admin.register(CreditNote)
class CreditNoteAdmin(_ReadOnly):
    list_display = (
        "display_number",
        "invoice",
        "subtotal_minor",
        "tax_minor",
        "amount_minor",
        "currency",
        "reason",
        "issued_at",
    )
