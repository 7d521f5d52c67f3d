from billow.jobs.schedule import SCHEDULE


def test_the_inventory_jobs_are_on_the_periodic_schedule():
    rows = {entry.name: (entry.target, entry.cron) for entry in SCHEDULE}
    assert rows["inventory_sync_dcimanager"] == (
        "billow.inventory.tasks.sync_dcimanager",
        "*/10 * * * *",
    )
    assert rows["inventory_expire_reservations"] == (
        "billow.inventory.tasks.expire_reservations",
        "*/5 * * * *",
    )
    for name in ("inventory_sync_dcimanager", "inventory_expire_reservations"):
        entry = next(row for row in SCHEDULE if row.name == name)
        entry.matcher()  # a valid crontab
