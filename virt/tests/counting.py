"""A counting proxy around libvirt objects: every method call that goes to the daemon is one RPC.

Instrumentation, not a mock: each call reaches real libvirt. `after` maps a method
name to a function run after that call returns, to interleave a real change
(a pool undefined between a listing and a read) at an exact point.
"""
import collections

import libvirt

# Answered from the client's own object, without an RPC.
LOCAL_METHODS = {"name", "UUID", "UUIDString", "ID", "key", "connect", "c_pointer", "storagePoolLookupByVolume"}
_WRAPPED = (libvirt.virConnect, libvirt.virStoragePool, libvirt.virStorageVol, libvirt.virDomain, libvirt.virNetwork)


class Counting:
    def __init__(self, target, counter=None, after=None):
        self._target = target
        self.counter = collections.Counter() if counter is None else counter
        self._after = after or {}

    @property
    def rpcs(self):
        return sum(self.counter.values())

    def __getattr__(self, name):
        attr = getattr(self._target, name)
        if not callable(attr) or name in LOCAL_METHODS:
            return attr

        def call(*args, **kwargs):
            self.counter[name] += 1
            result = attr(*(_unwrap(a) for a in args), **{k: _unwrap(v) for k, v in kwargs.items()})
            if name in self._after:
                self._after.pop(name)()
            return self._wrap(result)

        return call

    def _wrap(self, value):
        if isinstance(value, _WRAPPED):
            return Counting(value, self.counter, self._after)
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if isinstance(value, tuple):  # getAllDomainStats: (virDomain, stats) pairs
            return tuple(self._wrap(v) for v in value)
        return value


def _unwrap(value):
    if isinstance(value, list):  # domainListGetStats takes a list of domains
        return [_unwrap(item) for item in value]
    return value._target if isinstance(value, Counting) else value
