"""Work on a clock: the scheduler (syncs, digests at local times, alert evaluation), shutdown."""
