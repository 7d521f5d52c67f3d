from billow.core.money import Money, allocate


def test_allocate_even_split_gives_remainder_to_first():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]


def test_money_str():
    assert str(Money(1234, "USD")) == "12.34 USD"
