"""Photos attached to civic feedback reports: checked, cleaned, stored, served to those allowed."""
