"""``python -m marketplace.payments.sandbox --port 12111 --webhook-url ...``"""

from marketplace.payments.sandbox.cli import serve_sandbox

serve_sandbox(prog_name="python -m marketplace.payments.sandbox")
