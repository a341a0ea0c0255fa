from django.db import models
from django.utils.translation import gettext_lazy as _

from inbox.models.accounts import Marketplace, MarketplaceAccount
from inbox.models.base import TenantModel, covered_workspace


class Product(TenantModel):
    """A marketplace product card (WB nmId / Ozon sku), cached and refreshed at most daily."""

    workspace = covered_workspace()  # product_ws_brand_idx
    account = models.ForeignKey(  # product_unique_external
        MarketplaceAccount, on_delete=models.CASCADE, related_name="products", db_index=False
    )
    external_id = models.CharField(_("marketplace id"), max_length=64)
    name = models.CharField(_("name"), max_length=500, blank=True, default="")
    brand = models.CharField(_("brand"), max_length=200, blank=True, default="")
    article = models.CharField(_("article"), max_length=200, blank=True, default="")
    image_url = models.URLField(_("image URL"), max_length=500, blank=True, default="")
    card_data = models.JSONField(_("card data"), default=dict, blank=True)
    cached_at = models.DateTimeField(_("cached at"), null=True, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"], name="product_unique_external"
            ),
        ]
        indexes = [
            # analytics and filters: products of a workspace by brand
            models.Index(fields=["workspace", "brand"], name="product_ws_brand_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class Customer(TenantModel):
    """A buyer seen on one marketplace, with aggregates over their interactions."""

    workspace = covered_workspace()  # customer_unique_external
    marketplace = models.CharField(_("marketplace"), max_length=8, choices=Marketplace.choices)
    external_id = models.CharField(_("marketplace id"), max_length=128)
    display_name = models.CharField(_("name"), max_length=200, blank=True, default="")
    interactions_count = models.PositiveIntegerField(_("interactions"), default=0)
    reviews_count = models.PositiveIntegerField(_("reviews"), default=0)
    rating_sum = models.PositiveIntegerField(_("sum of ratings"), default=0)
    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "marketplace", "external_id"], name="customer_unique_external"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.external_id

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_sum / self.reviews_count, 2) if self.reviews_count else None
