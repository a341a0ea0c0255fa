import django_rq
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from connectors.jobs import sync_accounts_job, sync_job_id
from connectors.sync import AccountSyncLock, sync_account, sync_lock_key
from connectors.sync_batch import sync_accounts
from inbox.models import InteractionEvent, MarketplaceAccount
from tests.connectors.test_sync import connect, counts, truth_counts


def _statuses(reports) -> dict[int, str]:
    return {report.account_id: report.status for report in reports}


def test_sync_accounts_syncs_every_account_of_the_batch(simulator, workspace):
    accounts = [connect(simulator, workspace, reviews=n) for n in (3, 0, 12)]

    reports = sync_accounts([(account.pk, False) for account, _sim_id in accounts])

    assert _statuses(reports) == {account.pk: "ok" for account, _sim_id in accounts}
    assert [counts(account) for account, _sim_id in accounts] == [
        truth_counts(simulator, sim_id) for _account, sim_id in accounts
    ]
    assert set(
        MarketplaceAccount.objects.filter(pk__in=[a.pk for a, _s in accounts]).values_list(
            "sync_status", flat=True
        )
    ) == {"ok"}


def test_sync_accounts_twice_creates_the_same_rows(simulator, workspace):
    accounts = [connect(simulator, workspace) for _ in range(2)]
    batch = [(account.pk, False) for account, _sim_id in accounts]
    sync_accounts(batch)
    after_first = [counts(account) for account, _sim_id in accounts]

    second = sync_accounts(batch)

    assert [report.created for report in second] == [0, 0]
    assert [counts(account) for account, _sim_id in accounts] == after_first


def test_sync_accounts_picks_up_new_items_after_the_anything_new_check(simulator, workspace):
    account, sim_id = connect(simulator, workspace, reviews=4, questions=2)
    sync_account(account.pk)
    simulator.generate(sim_id, reviews=2)

    [report] = sync_accounts([(account.pk, True)])

    assert (report.status, report.created) == ("ok", 2)
    assert counts(account) == truth_counts(simulator, sim_id)


def test_a_failing_account_does_not_stop_the_others_in_its_batch(simulator, workspace):
    revoked, revoked_sim = connect(simulator, workspace)
    broken, broken_sim = connect(simulator, workspace)
    healthy, healthy_sim = connect(simulator, workspace)
    simulator.add_fault(revoked_sim, "revoked")
    # The client reads three times: three 500s make this account's sync give up.
    simulator.add_fault(broken_sim, "500", count=3, path_contains="/api/v1/questions")

    reports = sync_accounts([(revoked.pk, False), (broken.pk, False), (healthy.pk, False)])

    assert _statuses(reports) == {revoked.pk: "auth_error", broken.pk: "error", healthy.pk: "ok"}
    assert counts(healthy) == truth_counts(simulator, healthy_sim)
    statuses = dict(
        MarketplaceAccount.objects.filter(pk__in=[revoked.pk, broken.pk, healthy.pk]).values_list(
            "pk", "sync_status"
        )
    )
    assert statuses == {revoked.pk: "auth_error", broken.pk: "error", healthy.pk: "ok"}
    assert [r.retry_after for r in reports if r.account_id == broken.pk] == [5.0]


def test_sync_accounts_job_hands_a_transient_failure_to_the_accounts_own_retried_job(
    simulator, workspace
):
    broken, broken_sim = connect(simulator, workspace)
    healthy, _healthy_sim = connect(simulator, workspace)
    simulator.add_fault(broken_sim, "500", count=3, path_contains="/api/v1/questions")

    statuses = sync_accounts_job([(broken.pk, False), (healthy.pk, False)])

    queue = django_rq.get_queue("sync")
    assert statuses == {"error": 1, "ok": 1}
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == [sync_job_id(broken.pk)]


def test_sync_accounts_skips_an_account_whose_sync_runs_elsewhere(simulator, workspace):
    busy, busy_sim = connect(simulator, workspace)
    free, free_sim = connect(simulator, workspace)
    lock = AccountSyncLock(busy.pk)
    assert lock.acquire()
    try:
        reports = sync_accounts([(busy.pk, False), (free.pk, False)])
    finally:
        lock.release()

    assert _statuses(reports) == {busy.pk: "already_running", free.pk: "ok"}
    assert simulator.account_stats(busy_sim)["requests"] == 0
    assert counts(free) == truth_counts(simulator, free_sim)


def test_sync_accounts_releases_every_lock_it_took(simulator, workspace):
    accounts = [connect(simulator, workspace) for _ in range(2)]

    sync_accounts([(account.pk, False) for account, _sim_id in accounts])

    assert [AccountSyncLock(account.pk).acquire() for account, _sim_id in accounts] == [
        True,
        True,
    ]
    for account, _sim_id in accounts:
        django_rq.get_connection("default").delete(sync_lock_key(account.pk))


def test_sync_accounts_records_malformed_items_of_one_account_and_keeps_the_rest(
    simulator, workspace
):
    account, sim_id = connect(simulator, workspace)
    simulator.add_fault(sim_id, "malformed", path_contains="/api/v1/feedbacks")

    [report] = sync_accounts([(account.pk, False)])

    errors = InteractionEvent.objects.filter(account=account, kind="sync_error")
    assert report.status == "ok"
    assert report.malformed == errors.count() >= 1


def test_a_burst_worker_runs_a_batch_job_from_the_queue(
    simulator, workspace, django_capture_on_commit_callbacks
):
    accounts = [connect(simulator, workspace, reviews=2) for _ in range(3)]
    queue = django_rq.get_queue("sync")
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue(sync_accounts_job, [(account.pk, False) for account, _sim_id in accounts])

    SimpleWorker([queue], connection=queue.connection).work(burst=True)

    assert [counts(account) for account, _sim_id in accounts] == [
        truth_counts(simulator, sim_id) for _account, sim_id in accounts
    ]
