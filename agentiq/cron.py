"""What runs when: `manage.py rqcron agentiq.cron` (schedules only, pointing at jobs)."""

from rq import cron

from inbox.jobs import clear_expired_sessions_job

cron.register(clear_expired_sessions_job, queue_name="default", cron="17 3 * * *", job_timeout=300)
