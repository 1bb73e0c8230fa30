"""Advocates: invite links, attribution, the friends dashboard, alerts, the referral tree."""
