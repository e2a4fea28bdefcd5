"""Retention: what is deleted, after how long, and by whom (`rules`); how (`batched_delete`).

Deletion only. Changes of state the same rounds make (uploads expired, lost jobs failed,
abandoned webhook deliveries failed) belong to their features.
"""
