"""features/answers"""
