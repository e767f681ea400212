"""Device drivers, one module per instrument family."""
