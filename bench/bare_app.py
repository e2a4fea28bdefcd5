"""The baseline of the load benchmark: the least a FastAPI + SQLAlchemy async service does
per request. One endpoint does one `INSERT ... RETURNING`, one a primary-key
`session.get`, each in a session from a dependency, with the app's pool (size and overflow).

`uvicorn --factory bench.bare_app:create_app`, on the environment the app reads
(`REFRAMER_DATABASE_URL`, `REFRAMER_DATABASE_POOL_SIZE`, `REFRAMER_DATABASE_MAX_OVERFLOW`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import DateTime, String, insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "bench_items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ItemIn(BaseModel):
    name: str


class ItemOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


async def create_schema(engine: AsyncEngine) -> None:
    """The bench creates the table once, before any worker starts."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(
        os.environ["REFRAMER_DATABASE_URL"],
        pool_size=int(os.environ.get("REFRAMER_DATABASE_POOL_SIZE", "10")),
        max_overflow=int(os.environ.get("REFRAMER_DATABASE_MAX_OVERFLOW", "0")),
    )
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    yield
    await engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def create_app() -> FastAPI:
    app = FastAPI(lifespan=lifespan)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/items", status_code=201)
    async def create_item(body: ItemIn, session: SessionDep) -> ItemOut:
        row = (
            await session.execute(
                insert(Item)
                .values(id=uuid.uuid4(), name=body.name, created_at=datetime.now(UTC))
                .returning(Item.id, Item.name, Item.created_at)
            )
        ).one()
        await session.commit()
        return ItemOut(id=row.id, name=row.name, created_at=row.created_at)

    @app.get("/items/{item_id}")
    async def get_item(item_id: uuid.UUID, session: SessionDep) -> ItemOut:
        item = await session.get(Item, item_id)
        if item is None:
            raise HTTPException(404)
        return ItemOut(id=item.id, name=item.name, created_at=item.created_at)

    return app
