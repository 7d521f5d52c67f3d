"""Catalog models: currencies and rates, product types, tariffs, prices, addons, enumerations."""

from .addon import (
    Addon,
    AddonPrice,
    AddonPricePoint,
    Enumeration,
    EnumerationValue,
    EnumerationValuePrice,
)
from .currency import Currency, ExchangeRate
from .product import ParameterValue, ProductType, ProductTypeParameter
from .tariff import Tariff, TariffPrice
from .version import CatalogVersion

__all__ = [
    "Addon",
    "AddonPrice",
    "AddonPricePoint",
    "CatalogVersion",
    "Currency",
    "Enumeration",
    "EnumerationValue",
    "EnumerationValuePrice",
    "ExchangeRate",
    "ParameterValue",
    "ProductType",
    "ProductTypeParameter",
    "Tariff",
    "TariffPrice",
]
