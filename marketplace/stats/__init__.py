"""Charts for the studio and the admin console: plays, sales, earnings, fees, refunds and
disputes over time, per day or week in UTC, summed from the daily plays and the ledger."""
