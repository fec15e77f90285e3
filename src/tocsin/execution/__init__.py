"""Running jobs: plans, executors, IO managers, step contexts and results."""
