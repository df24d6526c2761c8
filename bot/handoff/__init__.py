"""Handoffs to a person: the outbox in the conversation store, its delivery and its worker.

A submitted handoff becomes a row of the outbox table (`careerbot_handoffs`)
in the same SQL database as the conversations, in the same action call that
tells the visitor it is passed on. A worker in the action server delivers it
(e-mail over SMTP, a signed webhook) with retries and backoff, and marks each
destination done as soon as it has accepted the handoff, so a handoff goes to
each destination once and a restart loses nothing.
"""
