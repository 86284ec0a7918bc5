"""Declarative XML mapping on lxml. Never calls libvirt."""
