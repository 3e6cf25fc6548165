# The linear layer with binary cross-entropy on logits of linear_bce.ws, as a function that
# returns two outputs, (loss, z) (the MindSpore autodiff tutorial). By default the
# output is loss, the last assignment. Differentiated through both outputs, their gradients add:
#   worksheet derive samples/linear_bce_aux.ws --target loss,z      # L_total = loss + sum(z)
# z = x W + b, so d sum(z)/db = 1 for each element of b and d sum(z)/dW = x for each column of W,
# which is 1 with x = ones(5): every element of dL_total/dW and dL_total/db is the loss-only
# gradient plus exactly 1. With the second output detached, or reported but not differentiated,
# the gradients equal the loss-only ones:
#   worksheet derive samples/linear_bce_aux.ws --target loss,z_out  # z_out = stop_gradient(z)
#   worksheet derive samples/linear_bce_aux.ws --aux z              # MindSpore's has_aux=True
param W = randn(5, 3, seed=0)
param b = randn(3, seed=1)
data  x = ones(5)
data  y = zeros(3)
z = x @ W + b
z_out = stop_gradient(z)     # z.detach() in PyTorch
loss = bce_with_logits(z, y)
