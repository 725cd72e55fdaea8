"""The audit trail: reads of professional-level scores and exports, and every management change."""
