"""Autoencoders for anomaly detection (Part I's theory model and Part II's NAB detectors)."""
