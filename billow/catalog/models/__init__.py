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

__all__ = [
    "Addon",
    "AddonPrice",
    "AddonPricePoint",
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
