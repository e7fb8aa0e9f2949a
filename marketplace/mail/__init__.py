"""Mail: messages composed from templates (text and HTML) and delivered by the transport,
over SMTP in production or into the outbox folder in development."""
