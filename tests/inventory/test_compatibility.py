"""The one compatibility check: every rule, its code and its reason text (pure, no database)."""

from __future__ import annotations

from dataclasses import replace

from billow.inventory.compatibility import Build, PartSpec, Refusal, check_build

BOARD = PartSpec(
    kind="chassis",
    name="R250 1U",
    socket="LGA1700",
    memory_type="DDR5",
    form_factor="1U",
    tdp_watts=60,
    cpu_sockets=1,
    ram_slots=4,
    max_ram_gb=128,
    drive_bays=4,
    drive_form_factor="2.5",
    pcie_slots=1,
    psu_watts=450,
)
CPU = PartSpec(kind="cpu", name="Xeon E-2488", socket="LGA1700", tdp_watts=95)
CPU_AM5 = PartSpec(kind="cpu", name="EPYC 4564P", socket="AM5", tdp_watts=170)
DDR5 = PartSpec(kind="ram", name="32GB DDR5", memory_type="DDR5", capacity_gb=32, tdp_watts=5)
DDR4 = PartSpec(kind="ram", name="32GB DDR4", memory_type="DDR4", capacity_gb=32, tdp_watts=5)
SSD = PartSpec(kind="disk", name="960GB SSD", form_factor="2.5", capacity_gb=960, tdp_watts=5)
HDD = PartSpec(kind="disk", name="8TB HDD", form_factor="3.5", capacity_gb=8000, tdp_watts=10)
NIC = PartSpec(kind="nic", name="X710 10G", tdp_watts=10)
GPU = PartSpec(kind="gpu", name="L4", tdp_watts=72)


def build(*parts: tuple[PartSpec, int], chassis: PartSpec | None = BOARD) -> Build:
    return Build(chassis, tuple(parts))


def codes(b: Build) -> list[str]:
    return [r.code for r in check_build(b)]


GOOD = ((CPU, 1), (DDR5, 2), (SSD, 2))


def test_a_fitting_build_has_no_refusal() -> None:
    assert check_build(build(*GOOD)) == ()
    # the limits themselves fit: 4 slots x 32 GB = 128 GB maximum, 4 bays, 1 PCIe card
    assert check_build(build((CPU, 1), (DDR5, 4), (SSD, 4), (NIC, 1))) == ()


def test_chassis_required_and_only_as_chassis() -> None:
    assert check_build(build(*GOOD, chassis=None)) == (
        Refusal("chassis_required", "Choose a chassis."),
    )
    assert check_build(build(*GOOD, chassis=CPU)) == (
        Refusal("wrong_kind", "Xeon E-2488 is not a chassis.", "Xeon E-2488"),
    )
    assert check_build(build(*GOOD, (BOARD, 1))) == (
        Refusal("wrong_kind", "R250 1U is a chassis, not a part.", "R250 1U"),
    )


def test_socket_mismatch_names_both_sockets() -> None:
    assert check_build(build((CPU_AM5, 1), (DDR5, 2), (SSD, 1))) == (
        Refusal(
            "socket_mismatch", "EPYC 4564P needs socket AM5; R250 1U has LGA1700.", "EPYC 4564P"
        ),
    )


def test_processor_count_and_models() -> None:
    assert codes(build((DDR5, 2), (SSD, 1))) == ["cpu_required"]
    assert check_build(build((CPU, 2), (DDR5, 2), (SSD, 1))) == (
        Refusal("too_many_cpus", "R250 1U takes 1 processors; 2 chosen.", "Xeon E-2488"),
    )
    dual = replace(BOARD, cpu_sockets=2, psu_watts=2000)
    other = replace(CPU, name="Xeon E-2478")
    assert codes(build((CPU, 1), (other, 1), (DDR5, 2), (SSD, 1), chassis=dual)) == ["mixed_cpus"]


def test_ddr5_module_in_a_ddr4_board_is_refused() -> None:
    ddr4_board = replace(BOARD, name="R240", memory_type="DDR4")
    assert check_build(build((CPU, 1), (DDR5, 2), (SSD, 1), chassis=ddr4_board)) == (
        Refusal("memory_type_mismatch", "32GB DDR5 is DDR5; R240 takes DDR4.", "32GB DDR5"),
    )
    assert codes(build((CPU, 1), (DDR4, 1), (SSD, 1))) == ["memory_type_mismatch"]


def test_more_modules_than_slots_and_over_the_maximum() -> None:
    assert codes(build((CPU, 1), (SSD, 1))) == ["memory_required"]
    small = replace(DDR5, name="8GB DDR5", capacity_gb=8)
    assert check_build(build((CPU, 1), (small, 5), (SSD, 1))) == (
        Refusal(
            "too_many_memory_modules", "R250 1U has 4 memory slots; 5 modules chosen.", "8GB DDR5"
        ),
    )
    big = replace(DDR5, name="64GB DDR5", capacity_gb=64)
    assert check_build(build((CPU, 1), (big, 3), (SSD, 1))) == (
        Refusal(
            "memory_over_maximum",
            "R250 1U takes at most 128 GB of memory; 192 GB chosen.",
            "64GB DDR5",
        ),
    )
    # both at once: each reason is reported
    assert codes(build((CPU, 1), (big, 5), (SSD, 1))) == [
        "too_many_memory_modules",
        "memory_over_maximum",
    ]


def test_drive_bays_and_form_factor() -> None:
    assert codes(build((CPU, 1), (DDR5, 1))) == ["drive_required"]
    assert check_build(build((CPU, 1), (DDR5, 1), (SSD, 5))) == (
        Refusal("too_many_drives", "R250 1U has 4 drive bays; 5 drives chosen.", "960GB SSD"),
    )
    assert check_build(build((CPU, 1), (DDR5, 1), (HDD, 1))) == (
        Refusal(
            "drive_form_factor_mismatch",
            '8TB HDD is 3.5"; the bays of R250 1U take 2.5" drives.',
            "8TB HDD",
        ),
    )
    # a 2.5" drive fits a 3.5" bay
    large_bays = replace(BOARD, drive_form_factor="3.5")
    assert check_build(build((CPU, 1), (DDR5, 1), (SSD, 1), (HDD, 1), chassis=large_bays)) == ()


def test_expansion_cards_share_the_pcie_slots() -> None:
    assert check_build(build(*GOOD, (NIC, 1), (GPU, 1))) == (
        Refusal(
            "too_many_expansion_cards", "R250 1U has 1 PCIe slots; 2 cards chosen.", "X710 10G"
        ),
    )


def test_power_budget_counts_chassis_and_every_part() -> None:
    # 60 + 95 + 2*5 + 2*5 + 72 = 247 W of 450 W fits; on a 240 W supply it does not
    assert check_build(build(*GOOD, (GPU, 1))) == ()
    weak = replace(BOARD, psu_watts=240)
    assert check_build(build(*GOOD, (GPU, 1), chassis=weak)) == (
        Refusal(
            "power_over_budget", "The parts draw 247 W; the power supply of R250 1U gives 240 W."
        ),
    )


def test_zero_quantities_are_ignored() -> None:
    assert check_build(build(*GOOD, (GPU, 0), (CPU_AM5, 0))) == ()


def test_every_broken_rule_is_reported_once() -> None:
    parts = ((CPU_AM5, 2), (DDR4, 5), (HDD, 5), (NIC, 1), (GPU, 1))
    assert codes(build(*parts)) == [
        "socket_mismatch",
        "too_many_cpus",
        "memory_type_mismatch",
        "too_many_memory_modules",
        "memory_over_maximum",
        "drive_form_factor_mismatch",
        "too_many_drives",
        "too_many_expansion_cards",
        "power_over_budget",
    ]
