"""Work on a clock: the scheduler, digests at local times, alert evaluation, shutdown."""
