"""Daily plans, publishing, in-day re-planning and the persisted plan-job system.

A plan job is a row in ``plan_jobs``: the request is built from the database
when the job is created (so its data fingerprint is the state the dispatcher
asked about), a worker (in-process pool or Celery) solves it and stores the
validated plan, and publishing writes the plan back onto the appointments
only if the input rows have not changed since.
"""
