"""The cost meter: price tables (data files with source and date), the usage ledger, the cost
report and its budget warning, and clean-up of what still costs money."""
