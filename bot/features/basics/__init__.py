"""features/basics"""
