"""The matrix runs every hand-written statement: each builder registered in
``billow.core.rows.STATEMENTS`` (``@rows.per_vendor`` / ``@rows.hand_written``) is listed here
with the matrix test that runs it. A new statement fails this test until it gets one."""

from __future__ import annotations

import importlib
import importlib.util

from billow.core import rows

#: Every module holding hand-written SQL.
SQL_MODULES = (
    "billow.core.rows",
    "billow.ledger.sql",
    "billow.services.sql",
    "billow.api.sql",
    "billow.invoicing.sql",
    "billow.billing.sql",
    "billow.usage.sql",
    "billow.marketing.referrals.sql",
)

COVERED = {
    "billow.core.rows._insert_sql": "test_core_rows.py::test_insert_writes_the_rows_*",
    "billow.core.rows.copy_sql": "test_core_rows.py::test_write_new_writes_* (PostgreSQL)",
    "billow.core.rows.next_ids_sql": "test_core_rows.py::test_write_new_writes_* (PostgreSQL)",
    "billow.ledger.sql.pg_copy_txn": "test_ledger_sql.py (bulk path, PostgreSQL)",
    "billow.ledger.sql.pg_copy_entry": "test_ledger_sql.py (bulk path, PostgreSQL)",
    "billow.ledger.sql.pg_sequence": "test_ledger_sql.py (bulk and small paths, PostgreSQL)",
    "billow.ledger.sql.pg_next_ids": "test_ledger_sql.py (bulk path, PostgreSQL)",
    "billow.ledger.sql.pg_existing_keys": "test_ledger_sql.py (bulk path, PostgreSQL)",
    "billow.ledger.sql.pg_lock_accounts": "test_ledger_sql.py (bulk path, PostgreSQL)",
    "billow.ledger.sql.pg_apply_deltas": "test_ledger_sql.py (bulk and small paths)",
    "billow.ledger.sql.pg_plan_small": "test_ledger_sql.py (small path)",
    "billow.ledger.sql.pg_insert_small": "test_ledger_sql.py (small path)",
    "billow.ledger.sql.sqlite_existing_keys": "test_ledger_sql.py (bulk path, SQLite)",
    "billow.ledger.sql.sqlite_max_id": "test_ledger_sql.py (bulk path, SQLite)",
    "billow.ledger.sql.sqlite_insert_txn": "test_ledger_sql.py (bulk path, SQLite)",
    "billow.ledger.sql.sqlite_insert_entry": "test_ledger_sql.py (bulk path, SQLite)",
    "billow.ledger.sql.sqlite_apply_delta": "test_ledger_sql.py (bulk path, SQLite)",
    "billow.ledger.sql.count_accounts": "test_ledger_sql.py (a refused balance, SQLite)",
    "billow.services.sql.claim_sql": "test_services_sql.py::test_the_claim_*",
    "billow.services.sql.succeed_sql": "test_services_sql.py::test_succeed_if_unchanged_*",
    "billow.services.sql.set_paid_until_sql": "test_services_sql.py::test_set_paid_until_*",
    "billow.api.sql.token_sql": "test_api_sql.py::test_the_token_lookup_*",
    "billow.api.sql.claim_sql": "test_api_sql.py::test_the_idempotency_claim_*",
    "billow.api.sql.complete_sql": "test_api_sql.py::test_the_idempotency_claim_*",
    "billow.api.sql.hit_sql": "test_api_sql.py::test_the_throttle_counter_*",
    "billow.invoicing.sql.bump_sql": "test_invoicing_sql.py::test_the_bump_numbers_as_the_orm",
    "billow.invoicing.sql.invoice_insert_sql": "test_invoicing_sql.py::test_the_invoice_insert_*",
    "billow.invoicing.sql.line_insert_sql": "test_invoicing_sql.py::test_the_line_insert_*",
    "billow.billing.sql.wallet_sql": "test_billing_sql.py::test_the_wallet_lock_reads_*",
    "billow.billing.sql.expense_insert_sql": "test_billing_sql.py::test_the_expense_insert_*",
    "billow.usage.sql.stage_create_sql": "test_usage_sql.py::test_the_insert_and_fold_*",
    "billow.usage.sql.stage_clear_sql": "test_usage_sql.py::test_the_insert_and_fold_*",
    "billow.usage.sql.stage_copy_sql": "test_usage_sql.py::test_the_insert_and_fold_*",
    "billow.usage.sql.insert_new_sql": "test_usage_sql.py::test_the_insert_and_fold_*",
    "billow.usage.sql.rebuild_parameter_daily_sql": "test_usage_sql.py::test_the_rebuild_*",
    "billow.usage.sql.rebuild_group_sql": "test_usage_sql.py::test_the_rebuild_*",
    "billow.usage.sql.rebuild_memory_sql": "test_usage_sql.py::test_the_rebuild_*",
    "billow.usage.sql.rebuild_drop_sql": "test_usage_sql.py::test_the_rebuild_*",
    "billow.usage.sql.bulk_stage_create_sql": "test_usage_sql.py::test_the_bulk_statements_*",
    "billow.usage.sql.bulk_stage_clear_sql": "test_usage_sql.py::test_the_bulk_statements_*",
    "billow.usage.sql.bulk_stage_copy_sql": "test_usage_sql.py::test_the_bulk_statements_*",
    "billow.usage.sql.bulk_lock_sql": "test_usage_sql.py::test_the_bulk_statements_*",
    "billow.usage.sql.bulk_ingest_sql": "test_usage_sql.py::test_the_bulk_statements_*",
    "billow.usage.sql.meter_daily_sql": "test_usage_sql.py::test_the_meter_rollups_*",
    "billow.usage.sql.meter_monthly_sql": "test_usage_sql.py::test_the_meter_rollups_*",
    "billow.usage.sql.raw_copy_sql": "test_usage_sql.py::test_the_insert_and_fold_*",
    "billow.usage.sql.latest_ts_sql": "test_usage_sql.py::test_the_insert_and_fold_*",
    "billow.usage.sql.fold_stats_sql": "test_usage_sql.py::test_the_insert_and_fold_*",
    "billow.usage.sql.rebuild_daily_sql": "test_usage_sql.py::test_the_month_rebuild_*",
    "billow.usage.sql.rebuild_monthly_sql": "test_usage_sql.py::test_the_month_rebuild_*",
    "billow.usage.sql.lock_buckets_sql": "test_usage_sql.py::test_the_bucket_locks_*",
    "billow.usage.sql.list_partitions_sql": "test_usage_sql.py::test_partitions_are_*",
    "billow.usage.sql.create_partition_sql": "test_usage_sql.py::test_partitions_are_*",
    "billow.usage.sql.drop_partition_sql": "test_usage_sql.py::test_partitions_are_*",
    "billow.marketing.referrals.sql.charge_insert_sql": "test_referral_sql.py::test_the_*",
    "billow.marketing.referrals.sql.accrual_insert_sql": "test_referral_sql.py::test_the_*",
}


def test_every_hand_written_statement_is_in_the_matrix() -> None:
    for name in SQL_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    assert set(rows.STATEMENTS) == set(COVERED)
