"""The Slack side: the Bolt app, its listeners, the HTTP edge and the `/spend` grammar."""
