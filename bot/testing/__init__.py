"""Fakes at the network edge shared by the test suite and the benchmarks.

- :mod:`bot.testing.fake_slack`: a fake Slack Web API served on localhost;
- :mod:`bot.testing.signed_requests`: correctly signed Bolt requests, shaped as Slack sends them.

Nothing in the product imports this package.
"""
