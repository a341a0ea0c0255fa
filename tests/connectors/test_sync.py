import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from rq import SimpleWorker

from connectors.exceptions import RateLimited, TransientMarketplaceError
from connectors.jobs import (
    dispatch_due_syncs_job,
    enqueue_sync,
    sync_batch_job_id,
    sync_job_id,
)
from connectors.sync import AccountSyncLock, claim_due_accounts, sync_account
from inbox.models import Interaction, InteractionEvent, MarketplaceAccount, Message
from tests.factories import make_account

ROOT = Path(__file__).resolve().parents[2]


def connect(simulator, workspace, **options) -> tuple[MarketplaceAccount, str]:
    options = {"reviews": 40, "questions": 15, "chats": 6, "limits": False, **options}
    handle = simulator.create_wb_account(**options)
    account = make_account(
        workspace=workspace, credentials={"token": handle.token}, base_url=simulator.url
    )
    return account, handle.account_id


def counts(account: MarketplaceAccount) -> dict[str, int]:
    return {
        channel: Interaction.objects.filter(account=account, channel=channel).count()
        for channel in ("review", "question", "chat")
    }


def truth_counts(simulator, sim_id: str) -> dict[str, int]:
    truth = simulator.truth(sim_id)
    return {
        "review": truth["reviews"]["total"],
        "question": truth["questions"]["total"],
        "chat": truth["chats"]["total"],
    }


def test_sync_account_twice_creates_the_same_rows(simulator, workspace):
    account, sim_id = connect(simulator, workspace)

    first = sync_account(account.pk)
    rows_after_first = (counts(account), Message.objects.count())
    second = sync_account(account.pk)

    assert (first.status, second.status) == ("ok", "ok")
    assert rows_after_first == (counts(account), Message.objects.count())
    assert counts(account) == truth_counts(simulator, sim_id)
    assert second.created == 0
    account.refresh_from_db()
    assert (account.sync_status, account.sync_error) == ("ok", "")
    assert account.last_sync_at is not None


def test_sync_account_resumes_after_stopping_and_matches_ground_truth(simulator, workspace):
    account, sim_id = connect(simulator, workspace, reviews=60)

    partial = sync_account(account.pk, max_pages=2)
    complete = sync_account(account.pk)

    assert partial.pages == 2
    assert complete.status == "ok"
    assert counts(account) == truth_counts(simulator, sim_id)


def test_sync_account_resumes_after_a_server_error_and_matches_ground_truth(simulator, workspace):
    account, sim_id = connect(simulator, workspace)
    # The client tries a read three times: three 500s make this run give up on questions.
    simulator.add_fault(sim_id, "500", count=3, path_contains="/api/v1/questions")

    with pytest.raises(TransientMarketplaceError):
        sync_account(account.pk)
    reviews_before_rerun = counts(account)["review"]
    rerun = sync_account(account.pk)

    assert reviews_before_rerun == truth_counts(simulator, sim_id)["review"]
    assert rerun.status == "ok"
    assert counts(account) == truth_counts(simulator, sim_id)


def test_sync_account_waits_out_short_429_bursts(simulator, workspace):
    account, sim_id = connect(simulator, workspace, limits=True)
    simulator.add_fault(sim_id, "429", count=2)

    report = sync_account(account.pk)

    assert report.status == "ok"
    assert counts(account) == truth_counts(simulator, sim_id)
    stats = simulator.account_stats(sim_id)
    assert (stats["responses_429"], stats["rate_limit_overruns"]) == (2, 0)


def test_sync_account_raises_rate_limited_in_a_429_storm_and_resumes(simulator, workspace):
    account, sim_id = connect(simulator, workspace, limits=True)
    simulator.add_fault(sim_id, "429", count=3, path_contains="/api/v1/questions")

    with pytest.raises(RateLimited):
        sync_account(account.pk)
    account.refresh_from_db()
    status_during_storm = account.sync_status
    rerun = sync_account(account.pk)

    assert status_during_storm == MarketplaceAccount.SyncStatus.ERROR
    assert rerun.status == "ok"
    assert counts(account) == truth_counts(simulator, sim_id)
    assert simulator.account_stats(sim_id)["rate_limit_overruns"] == 0


def test_sync_account_records_a_revoked_token_and_does_not_retry(simulator, workspace):
    account, sim_id = connect(simulator, workspace)
    simulator.add_fault(sim_id, "revoked")

    report = sync_account(account.pk)
    requests_after = simulator.account_stats(sim_id)["requests"]
    again = sync_account(account.pk)

    account.refresh_from_db()
    assert (report.status, again.status) == ("auth_error", "auth_error")
    assert account.sync_status == MarketplaceAccount.SyncStatus.AUTH_ERROR
    assert account.sync_error != ""
    assert simulator.account_stats(sim_id)["requests"] == requests_after


def test_sync_account_retries_auth_error_after_credentials_change(simulator, workspace):
    account, sim_id = connect(simulator, workspace)
    simulator.add_fault(sim_id, "revoked")
    sync_account(account.pk)
    simulator.restore_token(sim_id)
    fresh = simulator.create_wb_account(reviews=0, questions=0, chats=0, limits=False)
    account.credentials = {"token": fresh.token}
    account.save(update_fields=["credentials"])

    report = sync_account(account.pk)

    assert report.status == "ok"


def test_sync_account_skips_malformed_items_and_records_them(simulator, workspace):
    account, sim_id = connect(simulator, workspace)
    simulator.add_fault(sim_id, "malformed", path_contains="/api/v1/feedbacks")

    report = sync_account(account.pk)

    errors = InteractionEvent.objects.filter(account=account, kind="sync_error")
    assert report.status == "ok"
    assert report.malformed == errors.count() >= 1
    assert set(errors.values_list("interaction_id", flat=True)) == {None}


def test_sync_account_returns_quickly_when_another_sync_holds_the_lock(simulator, workspace):
    account, sim_id = connect(simulator, workspace)
    lock = AccountSyncLock(account.pk)
    assert lock.acquire()
    try:
        report = sync_account(account.pk)
    finally:
        lock.release()

    assert report.status == "already_running"
    assert simulator.account_stats(sim_id)["requests"] == 0


def test_dispatch_due_syncs_enqueues_one_batch_and_worker_syncs_every_account(
    simulator, workspace, django_capture_on_commit_callbacks
):
    first, first_sim = connect(simulator, workspace)
    second, second_sim = connect(simulator, workspace, reviews=5)
    queue = django_rq.get_queue("sync")

    with django_capture_on_commit_callbacks(execute=True):
        enqueued = dispatch_due_syncs_job()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)

    assert enqueued == 2
    assert (counts(first), counts(second)) == (
        truth_counts(simulator, first_sim),
        truth_counts(simulator, second_sim),
    )
    assert set(
        MarketplaceAccount.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "sync_status", flat=True
        )
    ) == {"ok"}


def test_claim_due_accounts_makes_a_fast_account_due_for_the_next_dispatcher_run(workspace):
    account = make_account(workspace=workspace, token_info={"suggested_interval_seconds": 5})
    now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)

    first = claim_due_accounts(now=now)
    too_soon = claim_due_accounts(now=now + timedelta(seconds=3))
    # The next run, five seconds later by the schedule, started a moment early.
    next_run = claim_due_accounts(now=now + timedelta(seconds=4.5))

    assert [pk for pk, _full in first] == [account.pk]
    assert (too_soon, [pk for pk, _full in next_run]) == ([], [account.pk])


def test_dispatch_due_syncs_does_not_enqueue_an_account_whose_batch_still_waits(
    simulator, workspace, django_capture_on_commit_callbacks
):
    account, _sim_id = connect(simulator, workspace)
    queue = django_rq.get_queue("sync")
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_due_syncs_job()
    MarketplaceAccount.objects.filter(pk=account.pk).update(next_sync_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        again = dispatch_due_syncs_job()  # due again, but its batch is still waiting

    assert again == 0
    assert queue.job_ids == [sync_batch_job_id([account.pk])]


def test_dispatch_due_syncs_does_not_enqueue_an_account_whose_own_job_waits(
    simulator, workspace, django_capture_on_commit_callbacks
):
    account, _sim_id = connect(simulator, workspace)
    queue = django_rq.get_queue("sync")
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_sync(account.pk)

    with django_capture_on_commit_callbacks(execute=True):
        enqueued = dispatch_due_syncs_job()

    assert enqueued == 0
    assert queue.job_ids == [sync_job_id(account.pk)]


@pytest.mark.django_db(transaction=True)
def test_four_concurrent_workers_keep_within_the_rate_limit(simulator, workspace):
    account, sim_id = connect(simulator, workspace, reviews=120, questions=40, limits=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres:///{settings.DATABASES['default']['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }

    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "sync_account", str(account.pk), "--quiet"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=240) for process in processes]
    sync_account(account.pk)  # whoever lost the lock race: one more pass to be sure it is done

    statuses = sorted(out.split(":")[1].split(";")[0].strip() for out, _err in outputs)
    assert "ok" in statuses
    assert set(statuses) <= {"ok", "already_running"}
    assert simulator.account_stats(sim_id)["rate_limit_overruns"] == 0
    assert counts(account) == truth_counts(simulator, sim_id)
