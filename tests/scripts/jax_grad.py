import jax.numpy as jnp
from jax import grad


def f(x, y):
    return jnp.sin(x) * y ** 2 + jnp.exp(x * y)


print(grad(f, argnums=(0, 1))(0.5, 2.0))
