"""HTTP routes for this domain (being built)."""

from fastapi import APIRouter

router = APIRouter()
