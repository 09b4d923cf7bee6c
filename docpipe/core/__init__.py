"""What every stage shares: the frozen values passed between stages (types.py), the closed
vocabularies and the Failure value (vocab.py), exceptions (errors.py), and Gemma 4's visual
budget arithmetic (budget.py)."""
