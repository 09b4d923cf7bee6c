"""What every stage shares: the frozen values passed between stages (types.py), the closed
vocabularies (vocab.py), failure categories, the Failure value and exceptions (errors.py), which
failures a setting governs (causes.py), and Gemma 4's visual budget arithmetic (budget.py)."""
