"""Failover, retries, circuit breakers and routing policies."""

from smsbridge.router.backoff import RetryPolicy
from smsbridge.router.breaker import BreakerBoard, BreakerState, MemoryBreakerStorage
from smsbridge.router.decide import Delivery
from smsbridge.router.hooks import SendHooks
from smsbridge.router.policy import LeastCost, Policy, Priority, Weighted
from smsbridge.router.router import Router

__all__ = [
    "BreakerBoard",
    "BreakerState",
    "Delivery",
    "LeastCost",
    "MemoryBreakerStorage",
    "Policy",
    "Priority",
    "RetryPolicy",
    "Router",
    "SendHooks",
    "Weighted",
]
