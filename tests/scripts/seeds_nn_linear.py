import torch

x = torch.tensor([[1., 2.], [3., 4.]])
y = torch.tensor([[3.], [7.]])

model = torch.nn.Linear(2, 1)
loss_fn = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

optimizer.zero_grad()
loss = loss_fn(model(x), y)
loss.backward()
optimizer.step()
