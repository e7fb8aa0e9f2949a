"""Collaborators are real people: credits by invitation and consent, and versioned split sheets."""
