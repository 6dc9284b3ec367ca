"""Bonus: a Vision Transformer written from scratch against three convolutional networks on
CIFAR-10, all trained by one recipe under one budget."""
